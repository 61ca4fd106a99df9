"""sms-notify's settings, each declared once with its environment variable and default
(defaults point at the dev inbox and the development population; README lists them).

The local time zone is the shared ``timezone`` (``TIMEZONE``): codes' expiry times, dates in
texts, default quiet hours and the weekly digest all count in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.settings import (
    ServiceSettings,
    file_stand_in,
    hours,
    loopback_url,
    minutes,
    secret,
    setting,
)
from sms_notify.domain.budgets import country

# Development-only credentials for the dev inbox, which accepts any; deployments set them.
DEV_SMSC_PASSWORD = "dev-only-smsc-password"  # noqa: S105 - marked development default
DEV_MOBIZON_KEY = "dev-only-mobizon-key"
DEV_REPORT_SECRET = "dev-only-delivery-report-secret"  # noqa: S105 - marked development default
DEV_PHONE_CODE_PEPPER = b"dev-only-phone-code-pepper"
# Shared with the dev inbox's stand-in of the payment provider (dev/inbox.py has the same value).
DEV_PAYMENT_SECRET = "dev-only-payment-callback-secret"  # noqa: S105 - marked development default
DEV_INBOX_URL = "http://127.0.0.1:8025"
# Where `make run` serves sms-notify (dev/run.py): the provider's callback comes here.
DEV_CALLBACK_URL = "http://127.0.0.1:8004/providers/payments/callback"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday(raw: str) -> int:
    """``sun``, ``Sunday``... -> 6 (Monday is 0)."""
    name = raw.strip().lower()[:3]
    if name not in WEEKDAYS:
        raise ValueError(f"must be one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(name)


def countries(raw: str) -> tuple[str, ...]:
    """``+7,KZ`` -> ("+7", "KZ"): at least one."""
    found = tuple(country(part) for part in raw.split(",") if part.strip())
    if not found:
        raise ValueError("name at least one country")
    return found


def price(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must not be negative")
    return value


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    database: str = setting("MONGO_DATABASE", "sms_notify")

    # --- channels ------------------------------------------------------------------------
    smtp_host: str = setting("SMTP_HOST", "127.0.0.1")
    smtp_port: int = setting("SMTP_PORT", 1025)
    smtp_user: str | None = setting("SMTP_USER")
    smtp_password: str | None = secret("SMTP_PASSWORD")
    smtp_tls: bool = setting("SMTP_TLS", False)  # STARTTLS after connecting
    mail_from: str = setting("MAIL_FROM", "no-reply@edu.example.kz")
    # send.php, or the gateway's base URL
    smsc_url: str = setting("SMSC_URL", f"{DEV_INBOX_URL}/sys/send.php", dev=loopback_url)
    smsc_login: str = setting("SMSC_LOGIN", "dev")
    smsc_password: str = secret("SMSC_PASSWORD", DEV_SMSC_PASSWORD)
    smsc_sender: str | None = setting("SMSC_SENDER")
    # Base URL; api.mobizon.kz in production.
    mobizon_url: str = setting("MOBIZON_URL", DEV_INBOX_URL, dev=loopback_url)
    mobizon_api_key: str = secret("MOBIZON_API_KEY", DEV_MOBIZON_KEY)
    # SMS providers in the order they are tried; the next one takes over on a transient failure.
    sms_providers: tuple[str, ...] = setting("SMS_PROVIDERS", ("smsc", "mobizon"))
    # Shared secret of the delivery-report webhook (HMAC-SHA256 of the body).
    report_secret: str = secret("DELIVERY_REPORT_SECRET", DEV_REPORT_SECRET)

    # --- delivery: limits against SMS pumping, retries, the worker's rhythm -----------------
    codes_per_window: int = setting("LIMIT_CODES_PER_WINDOW", 5)
    code_window: dt.timedelta = setting(
        "LIMIT_CODE_WINDOW_MINUTES", dt.timedelta(minutes=10), parse=minutes
    )
    sms_per_day: int = setting("LIMIT_SMS_PER_DAY", 20)
    # Budgets of every SMS that is not a security message (domain/budgets.py): one account's in
    # a local day, the whole platform's in an hour; over either, stored as over_budget.
    budget_per_account_day: int = setting("SMS_BUDGET_PER_ACCOUNT_DAY", 50)
    budget_platform_hour: int = setting("SMS_BUDGET_PLATFORM_PER_HOUR", 20_000)
    budget_shards: int = setting("SMS_BUDGET_COUNTER_SHARDS", 8)
    # Where any SMS may go: calling codes ("+7") or regions ("KZ": Kazakhstan's numbers only).
    sms_countries: tuple[str, ...] = setting("SMS_ALLOWED_COUNTRIES", ("+7",), parse=countries)
    max_attempts: int = setting("DELIVERY_MAX_ATTEMPTS", 8)
    sweep_seconds: float = setting("DELIVERY_SWEEP_SECONDS", 2.0)
    status_poll_seconds: float = setting("STATUS_POLL_SECONDS", 60.0)

    # --- the prepaid balance ---------------------------------------------------------------
    # KZT drawn from the balance per SMS segment of a subscription message.
    price_per_segment: int = setting("SMS_PRICE_PER_SEGMENT", 10, parse=price)
    currency: str = "KZT"
    top_up_min: int = setting("TOP_UP_MIN", 100)
    top_up_max: int = setting("TOP_UP_MAX", 50_000)
    # The payment provider (PAYMENTS.md). "dev": the dev inbox's stand-in, refused in production;
    # a deployment sets "http" and the provider's URL, the public callback URL and the secret.
    payment_adapter: str = setting("PAYMENT_ADAPTER", "dev", dev=True)
    payment_provider_url: str = setting("PAYMENT_PROVIDER_URL", DEV_INBOX_URL, dev=loopback_url)
    # Given to the provider with each payment: where it POSTs the signed outcome.
    payment_callback_url: str = setting("PAYMENT_CALLBACK_URL", DEV_CALLBACK_URL, dev=loopback_url)
    # Where the provider sends the citizen back after paying (the cabinet's balance page).
    payment_return_url: str | None = setting("PAYMENT_RETURN_URL")
    # HMAC-SHA256 key of what we send the provider and of its callbacks.
    payment_secret: str = secret("PAYMENT_CALLBACK_SECRET", DEV_PAYMENT_SECRET)
    payment_timeout: float = setting("PAYMENT_TIMEOUT_SECONDS", 10.0)

    # --- subscriptions and the weekly digest -------------------------------------------------
    digest_weekday: int = setting("DIGEST_WEEKDAY", 6, parse=weekday)  # 0 Monday .. 6 Sunday
    digest_time: dt.time = setting("DIGEST_TIME", dt.time(18, 0))
    digest_check_seconds: float = setting("DIGEST_CHECK_SECONDS", 60.0)
    # A worker that was down at the digest's time still sends it within this long after.
    digest_catch_up: dt.timedelta = setting(
        "DIGEST_CATCH_UP_HOURS", dt.timedelta(hours=24), parse=hours
    )
    registry_url: str = setting("POPULATION_REGISTRY_URL", "dev/population.json", dev=file_stand_in)
    phone_code_pepper: bytes = secret("PHONE_CODE_PEPPER", DEV_PHONE_CODE_PEPPER)
    phone_code_ttl: dt.timedelta = dt.timedelta(minutes=10)
    phone_code_attempts: int = 5
    phone_codes_per_window: int = 3  # confirmations one account may start per phone_code_ttl

    # --- conversations with teachers -------------------------------------------------------
    attachment_max_bytes: int = setting("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
    preview_chars: int = 40  # of a teacher message shown in its notification
