"""Limits on the codes identity sends, so nobody pumps SMS (or mail) through it.

Security SMS (sign-in codes, recovery, the registration's IIN proof and phone confirmation) are
counted per phone, per account and per address (registrations have their own cap, see
usecases/registration.py); e-mailed codes and registry look-ups per address. The rules are
settings (SMS_PER_PHONE, SMS_PER_ACCOUNT, SMS_PER_ADDRESS, EMAIL_CODES_PER_ADDRESS,
IIN_LOOKUPS_PER_ADDRESS). A limit reached is a log line and a prometheus counter; the log names
the purpose and the scope, never the phone, e-mail, IIN or address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from prometheus_client import Counter

from identity import guard
from identity.deps import Deps
from identity.domain.throttle import ThrottleRule

log = logging.getLogger(__name__)

LIMITS_REACHED = Counter(
    "identity_code_limits_reached_total",
    "Codes (or look-ups) refused because a sending limit was reached",
    ["purpose", "scope"],
)


@dataclass(frozen=True)
class Limit:
    scope: str  # phone, account, address, registration: what the counter and the log say
    key: str
    rule: ThrottleRule


def sms_to_phone(deps: Deps, phone: str) -> Limit:
    return Limit("phone", f"sms:phone:{phone}", deps.settings.sms_per_phone)


def sms_for_account(deps: Deps, account_id: str) -> Limit:
    return Limit("account", f"sms:acct:{account_id}", deps.settings.sms_per_account)


def sms_from_address(deps: Deps, client: str | None) -> Limit:
    return Limit("address", f"sms:addr:{client or '-'}", deps.settings.sms_per_address)


def email_from_address(deps: Deps, client: str | None) -> Limit:
    return Limit("address", f"mail:addr:{client or '-'}", deps.settings.email_codes_per_address)


def lookups_from_address(deps: Deps, client: str | None) -> Limit:
    return Limit("address", f"lookup:addr:{client or '-'}", deps.settings.iin_lookups_per_address)


def reached(purpose: str, scope: str) -> None:
    LIMITS_REACHED.labels(purpose, scope).inc()
    extra = {"purpose": purpose, "scope": scope}
    log.warning("sending limit reached: %s per %s", purpose, scope, extra=extra)


def take(deps: Deps, purpose: str, *limits: Limit, silent: bool = False) -> bool:
    """Count one send against every limit, or against none when one of them is used up.

    A used-up limit raises 429 ``code_limit`` with Retry-After, or, when ``silent``, answers
    False: the caller then sends nothing and answers as if it had (where telling would say that
    an account or a linked phone exists).
    """
    for limit in limits:
        found = guard.decision(deps, limit.key, limit.rule)
        if not found.allowed:
            reached(purpose, limit.scope)
            if silent:
                return False
            raise guard.too_many(
                found.retry_after, "code_limit", "Too many codes were sent. Try again later."
            )
    for limit in limits:
        guard.failed(deps, limit.key, limit.rule)
    return True
