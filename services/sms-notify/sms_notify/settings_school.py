"""Settings of subscriptions, the SMS balance and messages to teachers, from the environment.

Kept apart from ``settings.py`` so the two halves of the service can grow separately; every
variable has a documented default (README, "Subscriptions, balance, teachers").
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from edu_common.config import ConfigError, env, env_int

# Development-only pepper for phone confirmation codes; deployments set PHONE_CODE_PEPPER.
_DEV_PEPPER = "dev-only-phone-code-pepper"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SchoolSettings:
    price_per_segment: int = 10  # KZT drawn from the balance per SMS segment of a subscription
    currency: str = "KZT"
    top_up_min: int = 100
    top_up_max: int = 50_000
    digest_weekday: int = 6  # 0 Monday .. 6 Sunday
    digest_time: dt.time = dt.time(18, 0)
    timezone: str = "Asia/Almaty"
    digest_check_seconds: float = 60.0
    # A worker that was down at the digest's time still sends it within this long after.
    digest_catch_up: dt.timedelta = dt.timedelta(hours=24)
    attachment_max_bytes: int = 5 * 1024 * 1024
    payment_adapter: str = "dev"
    registry_url: str = "dev/population.json"
    phone_code_pepper: bytes = field(default=_DEV_PEPPER.encode(), repr=False)
    phone_code_ttl: dt.timedelta = dt.timedelta(minutes=10)
    phone_code_attempts: int = 5
    phone_codes_per_window: int = 3  # confirmations one account may start per phone_code_ttl
    preview_chars: int = 40  # of a teacher message shown in its notification

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls) -> SchoolSettings:
        weekday = (env("DIGEST_WEEKDAY", "sun") or "sun").strip().lower()[:3]
        if weekday not in WEEKDAYS:
            raise ConfigError(f"DIGEST_WEEKDAY must be one of {', '.join(WEEKDAYS)}")
        try:
            at = dt.time.fromisoformat(env("DIGEST_TIME", "18:00") or "18:00")
        except ValueError as exc:
            raise ConfigError("DIGEST_TIME must be HH:MM") from exc
        timezone = env("DIGEST_TIMEZONE", "Asia/Almaty") or "Asia/Almaty"
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"DIGEST_TIMEZONE {timezone!r} is not a known time zone") from exc
        price = env_int("SMS_PRICE_PER_SEGMENT", 10)
        if price < 0:
            raise ConfigError("SMS_PRICE_PER_SEGMENT must not be negative")
        return cls(
            price_per_segment=price,
            top_up_min=env_int("TOP_UP_MIN", 100),
            top_up_max=env_int("TOP_UP_MAX", 50_000),
            digest_weekday=WEEKDAYS.index(weekday),
            digest_time=at,
            timezone=timezone,
            digest_check_seconds=env_int("DIGEST_CHECK_SECONDS", 60),
            digest_catch_up=dt.timedelta(hours=env_int("DIGEST_CATCH_UP_HOURS", 24)),
            attachment_max_bytes=env_int("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024),
            payment_adapter=env("PAYMENT_ADAPTER", "dev") or "dev",
            registry_url=env("POPULATION_REGISTRY_URL", "dev/population.json")
            or "dev/population.json",
            phone_code_pepper=(env("PHONE_CODE_PEPPER", _DEV_PEPPER) or _DEV_PEPPER).encode(),
        )


class SchoolDeps:
    """What subscriptions, balance and conversations need: the service's ``Deps`` and more.

    The population registry is opened on first use (the development one reads a JSON file).
    """

    def __init__(
        self, base, settings: SchoolSettings | None = None, *, registry=None, payments=None
    ):
        from sms_notify.adapters import payments as payments_module

        self.base = base
        self.settings = settings or SchoolSettings.from_env()
        self._registry = registry
        self.payments = payments or payments_module.adapter_named(self.settings.payment_adapter)

    @property
    def db(self):
        return self.base.db

    def now(self) -> dt.datetime:
        return self.base.now()

    @property
    def registry(self):
        if self._registry is None:
            from edu_common.registry import registry_from_url

            self._registry = registry_from_url(self.settings.registry_url)
        return self._registry
