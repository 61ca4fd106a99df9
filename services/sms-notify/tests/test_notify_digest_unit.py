"""The weekly digest's pure rules: when it runs, which period a grade falls in, the text."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from sms_notify.domain import digest

ALMATY = zoneinfo.ZoneInfo("Asia/Almaty")
SUNDAY_18 = digest.Schedule(weekday=6, at=dt.time(18, 0), tz=ALMATY)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 11, 22, 13, 0), utc(2026, 11, 22, 13, 0)),  # Sunday 18:00 exactly
        (utc(2026, 11, 22, 12, 59), utc(2026, 11, 15, 13, 0)),  # a minute before
        (utc(2026, 11, 18, 9, 0), utc(2026, 11, 15, 13, 0)),  # Wednesday
        (utc(2026, 11, 22, 19, 30), utc(2026, 11, 22, 13, 0)),  # Monday 00:30 local
    ],
)
def test_last_moment(now, expected):
    assert SUNDAY_18.last_moment(now) == expected
    assert SUNDAY_18.next_moment(now) == expected + digest.WEEK


def test_other_schedules():
    friday_noon = digest.Schedule(weekday=4, at=dt.time(12, 0), tz=ALMATY)
    assert friday_noon.last_moment(utc(2026, 11, 22, 0, 0)) == utc(2026, 11, 20, 7, 0)


def test_a_grade_belongs_to_the_period_it_was_recorded_in():
    recorded = utc(2026, 11, 18, 6, 0)
    assert SUNDAY_18.period_for(recorded, recorded) == utc(2026, 11, 22, 13, 0)
    # Recorded at the very moment: the period that closes then still has it.
    moment = utc(2026, 11, 22, 13, 0)
    assert SUNDAY_18.period_for(moment, moment - dt.timedelta(seconds=1)) == moment


def test_a_grade_arriving_after_its_period_closed_goes_into_the_next_open_one():
    recorded = utc(2026, 11, 21, 6, 0)
    received = utc(2026, 11, 22, 13, 30)
    assert SUNDAY_18.period_for(recorded, received) == utc(2026, 11, 29, 13, 0)
    very_late = utc(2026, 12, 10, 0, 0)
    assert SUNDAY_18.period_for(recorded, very_late) == utc(2026, 12, 13, 13, 0)


def test_lines_group_by_subject_in_time_order():
    at = utc(2026, 11, 18, 6, 0)
    grades = [
        digest.Grade("физика", "3", at),
        digest.Grade("Математика", "4", at + dt.timedelta(hours=2)),
        digest.Grade(" Математика ", "5", at),
    ]
    lines = digest.digest_lines(grades)
    assert lines == [
        digest.SubjectLine("Математика", ("5", "4")),
        digest.SubjectLine("физика", ("3",)),
    ]
    assert digest.render_lines(lines) == "Математика: 5, 4; физика: 3"


def test_no_grades_no_lines():
    assert digest.digest_lines([]) == []


def test_labels():
    moment = utc(2026, 11, 22, 13, 0)
    assert digest.period_label(moment, ALMATY) == "16.11-22.11"
    assert digest.period_key(moment) == "2026-11-22T13:00Z"
