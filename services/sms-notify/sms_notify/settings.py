"""sms-notify's settings, from the environment only (defaults point at the dev inbox)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from edu_common.config import connections, env, env_bool, env_int

# Development-only credentials for the dev inbox, which accepts any; deployments set them.
_DEV_SMSC_PASSWORD = "dev-only-smsc-password"  # noqa: S105 - marked development default
_DEV_MOBIZON_KEY = "dev-only-mobizon-key"
_DEV_REPORT_SECRET = "dev-only-delivery-report-secret"  # noqa: S105 - marked development default


@dataclass(frozen=True)
class Settings:
    mongo_url: str
    database: str
    amqp_url: str
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_tls: bool = False  # STARTTLS after connecting
    mail_from: str = "no-reply@edu.example.kz"
    smsc_url: str = "http://127.0.0.1:8025/sys/send.php"  # send.php, or the gateway's base URL
    smsc_login: str = "dev"
    smsc_password: str = field(default=_DEV_SMSC_PASSWORD, repr=False)
    smsc_sender: str | None = None
    mobizon_url: str = "http://127.0.0.1:8025"  # base URL; api.mobizon.kz in production
    mobizon_api_key: str = field(default=_DEV_MOBIZON_KEY, repr=False)
    # SMS providers in the order they are tried; the next one takes over on a transient failure.
    sms_providers: tuple[str, ...] = ("smsc", "mobizon")
    # Shared secret of the delivery-report webhook (HMAC-SHA256 of the body).
    report_secret: str = field(default=_DEV_REPORT_SECRET, repr=False)
    codes_per_window: int = 5
    code_window: dt.timedelta = dt.timedelta(minutes=10)
    sms_per_day: int = 20
    max_attempts: int = 8
    sweep_seconds: float = 2.0
    status_poll_seconds: float = 60.0
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"  # identity's signing keys

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            **connections("sms_notify"),
            smtp_host=env("SMTP_HOST", "127.0.0.1"),
            smtp_port=env_int("SMTP_PORT", 1025),
            smtp_user=env("SMTP_USER"),
            smtp_password=env("SMTP_PASSWORD"),
            smtp_tls=env_bool("SMTP_TLS", False),
            mail_from=env("MAIL_FROM", "no-reply@edu.example.kz"),
            smsc_url=env("SMSC_URL", "http://127.0.0.1:8025/sys/send.php"),
            smsc_login=env("SMSC_LOGIN", "dev"),
            smsc_password=env("SMSC_PASSWORD", _DEV_SMSC_PASSWORD),
            smsc_sender=env("SMSC_SENDER"),
            mobizon_url=env("MOBIZON_URL", "http://127.0.0.1:8025"),
            mobizon_api_key=env("MOBIZON_API_KEY", _DEV_MOBIZON_KEY),
            sms_providers=tuple(
                p.strip() for p in env("SMS_PROVIDERS", "smsc,mobizon").split(",") if p.strip()
            ),
            report_secret=env("DELIVERY_REPORT_SECRET", _DEV_REPORT_SECRET),
            codes_per_window=env_int("LIMIT_CODES_PER_WINDOW", 5),
            code_window=dt.timedelta(minutes=env_int("LIMIT_CODE_WINDOW_MINUTES", 10)),
            sms_per_day=env_int("LIMIT_SMS_PER_DAY", 20),
            max_attempts=env_int("DELIVERY_MAX_ATTEMPTS", 8),
            sweep_seconds=float(env("DELIVERY_SWEEP_SECONDS", "2")),
            status_poll_seconds=float(env("STATUS_POLL_SECONDS", "60")),
            jwks_url=env("IDENTITY_JWKS_URL", "http://127.0.0.1:8001/.well-known/jwks.json"),
        )
