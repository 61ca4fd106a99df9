"""Limits per recipient against SMS pumping. Pure: the store counts, this decides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    codes_per_window: int = 5  # one-time codes per phone...
    code_window: dt.timedelta = dt.timedelta(minutes=10)  # ...within this sliding window
    sms_per_day: int = 20  # every other SMS to one phone in 24 h (security ones exempt)


def window(kind: str, channel: str, limits: Limits) -> tuple[dt.timedelta, int, str] | None:
    """(window, most allowed in it, which counter) for a message, or None if it is not limited.

    Only SMS cost money and can be pumped; e-mail is not limited here. Security messages are
    never capped: an attacker must not be able to silence the warning of a break-in.
    """
    if channel != "sms" or kind == "security":
        return None
    if kind == "code":
        return limits.code_window, limits.codes_per_window, "codes"
    return dt.timedelta(days=1), limits.sms_per_day, "daily"


def allowed(sent_in_window: int, most: int) -> bool:
    return sent_in_window < most
