"""identity's settings, from the environment only, each declared once with its default."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.settings import ServiceSettings, days, equals, seconds, secret, setting

# Development-only pepper: deployments set CODE_PEPPER from a secret.
DEV_PEPPER = b"dev-only-pepper-not-for-production"
# `make run`'s bootstrap admin (dev/run.py): refused in production like any development value.
DEV_BOOTSTRAP_ADMIN_PASSWORD = "Admin-dev-2026"  # noqa: S105 - marked development value


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    database: str = setting("MONGO_DATABASE", "identity")
    # identity checks tokens with its own keys and answers for accounts itself: not read here.
    jwks_url: str = ""
    identity_url: str = ""
    password_policy: str = setting("PASSWORD_POLICY", "strict")  # strict or lenient
    code_pepper: bytes = secret("CODE_PEPPER", DEV_PEPPER)
    signing_keys_dir: str = setting("JWT_SIGNING_KEYS_DIR", ".data/identity/jwt-keys", dev=True)
    access_token_ttl: dt.timedelta = setting(
        "ACCESS_TOKEN_TTL_SECONDS", dt.timedelta(seconds=300), parse=seconds
    )
    refresh_token_ttl: dt.timedelta = setting(
        "REFRESH_TOKEN_TTL_DAYS", dt.timedelta(days=14), parse=days
    )
    registry_url: str = setting("POPULATION_REGISTRY_URL", "dev/population.json", dev=True)
    eds_trusted_ca_file: str | None = setting("EDS_TRUSTED_CA_FILE")
    eds_crl_files: tuple[str, ...] = setting("EDS_CRL_FILES", ())
    bootstrap_admin_iin: str | None = setting("BOOTSTRAP_ADMIN_IIN")
    bootstrap_admin_password: str | None = secret(
        "BOOTSTRAP_ADMIN_PASSWORD", dev=equals(DEV_BOOTSTRAP_ADMIN_PASSWORD)
    )
    bootstrap_admin_email: str | None = setting("BOOTSTRAP_ADMIN_EMAIL")
    bootstrap_admin_phone: str | None = setting("BOOTSTRAP_ADMIN_PHONE")
