"""Attendance: the rotating door code and the rules of marks and monthly sheets. Pure, no I/O.

The door code works like TOTP (RFC 6238): an HMAC-SHA256 of the number of the time window,
keyed by a per-kindergarten key derived from the service's secret, truncated to digits. The
head's screen at the door shows it as a QR; an escort's phone reads it and sends it with the
mark, so a mark proves the escort stood at that door within the last window or two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

DIGITS = 8
PAYLOAD_PREFIX = "edu-kg-door:v1"
IN, OUT = "in", "out"
DIRECTIONS = (IN, OUT)
# Who marked: an escort at the door (with its code) or the group's teacher.
BY_ESCORT, BY_TEACHER = "escort", "teacher"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# Machine codes.
DOOR_CODE_INVALID = "door_code_invalid"
ALREADY_IN = "child_already_in"
NOT_IN = "child_not_in"
IN_FUTURE = "mark_in_future"
MONTH_APPROVED = "month_approved"
MONTH_IN_FUTURE = "month_in_future"
MONTH_INVALID = "month_invalid"

# A teacher's mark older than the correction window waits for the district's operator.
CORRECTION_PENDING, CORRECTION_APPROVED, CORRECTION_REJECTED = "pending", "approved", "rejected"
CORRECTION_STATUSES = (CORRECTION_PENDING, CORRECTION_APPROVED, CORRECTION_REJECTED)


# --- door codes ---------------------------------------------------------------------------
def kindergarten_key(secret: bytes, kindergarten_id: str) -> bytes:
    """Each kindergarten its own key: a code read at one door opens no other."""
    return hmac.new(secret, b"door-code|" + kindergarten_id.encode(), hashlib.sha256).digest()


def window_of(at: dt.datetime, seconds: int) -> int:
    return int(at.timestamp()) // seconds


def code_for_window(key: bytes, window: int) -> str:
    mac = hmac.new(key, struct.pack(">Q", window), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F  # dynamic truncation as in RFC 4226
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


@dataclass(frozen=True)
class DoorCode:
    kindergarten_id: str
    code: str
    valid_from: dt.datetime
    valid_until: dt.datetime

    @property
    def payload(self) -> str:
        """What the QR holds: the kindergarten and the code, so a scan needs no typing."""
        return f"{PAYLOAD_PREFIX}:{self.kindergarten_id}:{self.code}"


def current_code(secret: bytes, kindergarten_id: str, now: dt.datetime, seconds: int) -> DoorCode:
    window = window_of(now, seconds)
    start = dt.datetime.fromtimestamp(window * seconds, dt.UTC)
    return DoorCode(
        kindergarten_id=kindergarten_id,
        code=code_for_window(kindergarten_key(secret, kindergarten_id), window),
        valid_from=start,
        valid_until=start + dt.timedelta(seconds=seconds),
    )


def code_from_input(value: str, kindergarten_id: str) -> str | None:
    """The bare code, from either the digits or the whole QR payload; None if it is for
    another kindergarten or not a code at all."""
    value = value.strip()
    if value.startswith(PAYLOAD_PREFIX + ":"):
        kg, _, code = value[len(PAYLOAD_PREFIX) + 1 :].rpartition(":")
        if kg != kindergarten_id:
            return None
        value = code
    if len(value) != DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return value


def code_is_valid(
    secret: bytes, kindergarten_id: str, given: str, now: dt.datetime, seconds: int
) -> bool:
    """The current window's code, or the previous one's: a code read just as the screen
    changed still works, for at most two windows."""
    code = code_from_input(given, kindergarten_id)
    if code is None:
        return False
    key = kindergarten_key(secret, kindergarten_id)
    window = window_of(now, seconds)
    # Compare with both (no early exit) in constant time.
    results = [hmac.compare_digest(code, code_for_window(key, w)) for w in (window, window - 1)]
    return any(results)


# --- marks --------------------------------------------------------------------------------
def local_day(at: dt.datetime, zone: dt.tzinfo) -> dt.date:
    return at.astimezone(zone).date()


def month_of(at: dt.datetime, zone: dt.tzinfo) -> str:
    return f"{local_day(at, zone):%Y-%m}"


def parse_month(value: str) -> tuple[int, int] | None:
    m = _MONTH.match(value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def month_bounds(month: str, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The month in local time as [start, end) instants."""
    parsed = parse_month(month)
    if parsed is None:
        raise ValueError(f"not a month: {month!r}")
    year, mon = parsed
    start = dt.datetime(year, mon, 1, tzinfo=zone)
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    return start, end


def sequence_refusal(day_marks: list[tuple[dt.datetime, str]], direction: str, at: dt.datetime):
    """A day's marks must go in, out, in, out...: the code of the refusal if adding
    ``direction`` at ``at`` breaks that, else None. ``day_marks`` are (at, direction)."""
    marks = sorted([*day_marks, (at, direction)], key=lambda m: m[0])
    inside = False
    for _, d in marks:
        if d == IN and inside:
            return ALREADY_IN
        if d == OUT and not inside:
            return NOT_IN
        inside = d == IN
    return None


def mark_time_refusal(at: dt.datetime, now: dt.datetime, approved: bool) -> str | None:
    if at > now:
        return IN_FUTURE
    if approved:
        return MONTH_APPROVED
    return None


def within_correction_window(at: dt.datetime, now: dt.datetime, zone: dt.tzinfo, days: int) -> bool:
    """A teacher records a mark for today or up to ``days`` local days before (1: today and
    yesterday) on their own; an older one is a correction for the district's operator."""
    return (local_day(now, zone) - local_day(at, zone)).days <= days


def approval_refusal(month: str, now: dt.datetime, zone: dt.tzinfo) -> str | None:
    """A month can be approved once it has begun: the current one or a past one."""
    if parse_month(month) is None:
        return MONTH_INVALID
    if month > month_of(now, zone):
        return MONTH_IN_FUTURE
    return None
