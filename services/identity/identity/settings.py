"""identity's settings, from the environment only, each declared once with its default."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.settings import ServiceSettings, days, equals, hours, seconds, secret, setting
from identity.domain import throttle
from identity.domain.throttle import ThrottleRule, parse_rule, quota

# Development-only pepper: deployments set CODE_PEPPER from a secret.
DEV_PEPPER = b"dev-only-pepper-not-for-production"
# `make run`'s bootstrap admin (dev/run.py): refused in production like any development value.
DEV_BOOTSTRAP_ADMIN_PASSWORD = "Admin-dev-2026"  # noqa: S105 - marked development value
HOUR = dt.timedelta(hours=1)


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
    # --- limits (FREE/LOCK_AFTER/MINUTES: growing delays after FREE, a lock at LOCK_AFTER; or
    # COUNT/MINUTES: at most COUNT in MINUTES). Per address only high ceilings against floods:
    # thirty people behind one address register and sign in without meeting them.
    login_failures_per_address: ThrottleRule = setting(
        "LOGIN_FAILURES_PER_ADDRESS", throttle.PASSWORD_PER_CLIENT, parse=parse_rule
    )
    code_failures_per_address: ThrottleRule = setting(
        "CODE_FAILURES_PER_ADDRESS", throttle.CODE_PER_CLIENT, parse=parse_rule
    )
    code_guesses_per_target: ThrottleRule = setting(
        "CODE_GUESSES_PER_TARGET", throttle.CODE_GUESSES_PER_TARGET, parse=parse_rule
    )
    # Security SMS (sign-in codes, recovery, the registration's IIN proof and phone confirmation).
    sms_per_phone: ThrottleRule = setting("SMS_PER_PHONE", quota(6, HOUR), parse=parse_rule)
    sms_per_account: ThrottleRule = setting("SMS_PER_ACCOUNT", quota(6, HOUR), parse=parse_rule)
    sms_per_address: ThrottleRule = setting("SMS_PER_ADDRESS", quota(300, HOUR), parse=parse_rule)
    email_codes_per_address: ThrottleRule = setting(
        "EMAIL_CODES_PER_ADDRESS", quota(300, HOUR), parse=parse_rule
    )
    iin_lookups_per_address: ThrottleRule = setting(
        "IIN_LOOKUPS_PER_ADDRESS", quota(300, HOUR), parse=parse_rule
    )
    registration_max_iins: int = setting("REGISTRATION_MAX_IINS", 3)
    registration_max_sms: int = setting("REGISTRATION_MAX_SMS", 6)
    # Accounts made by staff or a school: the one-time password works this long, once.
    one_time_password_ttl: dt.timedelta = setting(
        "ONE_TIME_PASSWORD_TTL_HOURS", dt.timedelta(hours=72), parse=hours
    )
    school_import_max_rows: int = setting("SCHOOL_IMPORT_MAX_ROWS", 1000)
