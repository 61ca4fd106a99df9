"""SMS budgets and allowed destinations, against SMS pumping (toll fraud). Pure: the store
counts, this decides what is counted where and which numbers may be sent to at all.

Every SMS that is not a security message draws on two budgets: the account's for the local day,
and the whole platform's for the hour (UTC). One over either is stored as ``over_budget``, not
sent. Security messages (identity's codes, password changed, account locked) never draw on
them: a budget spent by an attacker must not lock a person out or hide a break-in (identity
limits how often codes are asked for). A code sms-notify sends for its own product (a
subscription's phone confirmation) is not a security message: it is marked ``budgeted``.

SMS go only to numbers of the allowed countries, whatever the kind: international premium
numbers are how pumping earns money.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass

import phonenumbers

SECURITY_KINDS = frozenset({"code", "security"})
ACCOUNT, PLATFORM = "account", "platform"
_COUNTRY = re.compile(r"^(\+[1-9]\d{0,2}|[A-Z]{2})$")


@dataclass(frozen=True)
class Budgets:
    per_account_day: int = 50  # non-security SMS drawn by one account in a local day
    platform_hour: int = 20_000  # non-security SMS of the whole platform in an hour
    countries: tuple[str, ...] = ("+7",)  # "+7" (a calling code) or "KZ" (a region)
    shards: int = 8  # counters the platform's hour is spread over (few write conflicts)


def country(raw: str) -> str:
    """A destination country as settings name it: ``+7`` or ``KZ``."""
    value = raw.strip().upper()
    if not _COUNTRY.match(value):
        raise ValueError("a calling code such as +7, or a region such as KZ")
    return value


def budgeted(channel: str, kind: str, marked: bool | None = None) -> bool:
    """Whether a message draws on the budgets: every SMS but security ones, unless marked."""
    if channel != "sms":
        return False
    if marked is not None:
        return marked
    return kind not in SECURITY_KINDS


def destination_allowed(phone: str, countries: tuple[str, ...]) -> bool:
    """An E.164 phone of one of ``countries`` (calling codes or regions)."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return False
    calling = f"+{number.country_code}"
    region = phonenumbers.region_code_for_number(number)
    return any(c in (calling, region) for c in countries)


def account_bucket(
    account_id: str, now: dt.datetime, tz: zoneinfo.ZoneInfo
) -> tuple[str, dt.datetime]:
    """(the counter's key, when it may be forgotten) of an account's local day."""
    day = now.astimezone(tz).date()
    ends = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return f"{ACCOUNT}|{account_id}|{day.isoformat()}", ends + dt.timedelta(days=1)


def platform_bucket(now: dt.datetime) -> tuple[str, dt.datetime]:
    """(the counter's key, when it may be forgotten) of the platform's hour, in UTC."""
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return f"{PLATFORM}|{hour:%Y-%m-%dT%H}", hour + dt.timedelta(hours=1, days=1)


def within(used: int, most: int) -> bool:
    return used < most
