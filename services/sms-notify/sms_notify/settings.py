"""sms-notify's settings, from the environment only."""

from __future__ import annotations

from dataclasses import dataclass, field

from edu_common.config import connections, env, env_bool, env_int

# Development-only password for the dev inbox, which accepts any; deployments set SMSC_PASSWORD.
_DEV_SMSC_PASSWORD = "dev-only-smsc-password"  # noqa: S105 - marked development default


@dataclass(frozen=True)
class Settings:
    mongo_url: str
    database: str
    amqp_url: str
    smtp_host: str
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None = field(repr=False)
    smtp_tls: bool  # STARTTLS after connecting
    mail_from: str
    smsc_url: str  # send.php itself, or the gateway's base URL
    smsc_login: str
    smsc_password: str = field(repr=False)
    smsc_sender: str | None = None

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
        )
