"""Quiet hours and limits: pure rules."""

from __future__ import annotations

import datetime as dt

import pytest

from sms_notify.domain import limits, quiet

ALMATY = dt.timezone(dt.timedelta(hours=5))
ZONE = "Asia/Almaty"  # the service's TIMEZONE, which the caller passes in


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=ALMATY)


@pytest.mark.parametrize(
    ("now", "release"),
    [
        (at(12), None),
        (at(21, 59), None),
        (at(22, 0), at(8, 0, day=3)),  # evening: until the next morning
        (at(23, 30), at(8, 0, day=3)),
        (at(3, 0), at(8, 0)),  # after midnight: until this morning
        (at(7, 59), at(8, 0)),
        (at(8, 0), None),
    ],
)
def test_default_quiet_hours_wrap_midnight(now, release):
    assert quiet.release_at(now, quiet.QuietHours(ZONE)) == release


def test_a_window_inside_one_day_and_an_empty_one():
    q = quiet.QuietHours(ZONE, dt.time(13, 0), dt.time(15, 0))
    assert quiet.release_at(at(14), q) == at(15)
    assert quiet.release_at(at(16), q) is None
    assert quiet.release_at(at(23), quiet.QuietHours(ZONE, dt.time(8), dt.time(8))) is None


def test_quiet_hours_switched_off_and_from_stored_preferences():
    assert quiet.QuietHours.from_doc({"enabled": False}, ZONE) is None
    assert quiet.release_at(at(23), None) is None
    q = quiet.QuietHours.from_doc(
        {"start": "21:00", "end": "07:30", "time_zone": "Asia/Almaty"}, "UTC"
    )
    assert quiet.release_at(at(21, 15), q) == at(7, 30, day=3)
    # Stored without a zone: the service's; never set at all: the default window in it.
    q = quiet.QuietHours.from_doc({"start": "21:00", "end": "07:30"}, ZONE)
    assert quiet.release_at(at(21, 15), q) == at(7, 30, day=3)
    assert quiet.QuietHours.from_doc(None, ZONE) == quiet.QuietHours(ZONE)


def test_codes_and_other_sms_have_separate_limits_and_security_none():
    rules = limits.Limits(codes_per_window=5, code_window=dt.timedelta(minutes=10), sms_per_day=3)
    assert limits.window("code", "sms", rules) == (dt.timedelta(minutes=10), 5, "codes")
    assert limits.window("queue", "sms", rules) == (dt.timedelta(days=1), 3, "daily")
    assert limits.window("security", "sms", rules) is None
    assert limits.window("code", "email", rules) is None
    assert limits.allowed(4, 5) and not limits.allowed(5, 5)
