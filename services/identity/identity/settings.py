"""identity's settings, from the environment only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.config import connections, env, env_int

# Development-only pepper: deployments set CODE_PEPPER from a secret.
_DEV_PEPPER = "dev-only-pepper-not-for-production"


@dataclass(frozen=True)
class Settings:
    mongo_url: str
    database: str
    amqp_url: str
    password_policy: str
    code_pepper: bytes
    signing_keys_dir: str
    access_token_ttl: dt.timedelta
    refresh_token_ttl: dt.timedelta
    registry_url: str
    eds_trusted_ca_file: str | None
    eds_crl_files: tuple[str, ...]
    bootstrap_admin_iin: str | None
    bootstrap_admin_password: str | None
    bootstrap_admin_email: str | None
    bootstrap_admin_phone: str | None

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            **connections("identity"),
            password_policy=env("PASSWORD_POLICY", "strict"),
            code_pepper=env("CODE_PEPPER", _DEV_PEPPER).encode(),
            signing_keys_dir=env("JWT_SIGNING_KEYS_DIR", ".data/identity/jwt-keys"),
            access_token_ttl=dt.timedelta(seconds=env_int("ACCESS_TOKEN_TTL_SECONDS", 300)),
            refresh_token_ttl=dt.timedelta(days=env_int("REFRESH_TOKEN_TTL_DAYS", 14)),
            registry_url=env("POPULATION_REGISTRY_URL", "dev/population.json"),
            eds_trusted_ca_file=env("EDS_TRUSTED_CA_FILE"),
            eds_crl_files=tuple(f for f in (env("EDS_CRL_FILES", "") or "").split(",") if f),
            bootstrap_admin_iin=env("BOOTSTRAP_ADMIN_IIN"),
            bootstrap_admin_password=env("BOOTSTRAP_ADMIN_PASSWORD"),
            bootstrap_admin_email=env("BOOTSTRAP_ADMIN_EMAIL"),
            bootstrap_admin_phone=env("BOOTSTRAP_ADMIN_PHONE"),
        )
