"""The journal's contract and the development tool's payloads, without a broker; the settings
of subscriptions and the digest."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from edu_common.config import ConfigError
from sms_notify import journal
from sms_notify.settings import Settings
from sms_notify.tools import journal as tool

STUDENT = "081009542946"


def test_the_tool_builds_events_that_match_the_contract():
    args = tool.parser().parse_args(
        ["grade", "--iin", STUDENT, "--subject", "Физика", "--grade", "4", "--grade-id", "g-1"]
    )
    assert args.event == "grade" and args.grade_kind == "lesson"
    env = journal.GRADE_RECORDED.make(tool.grade_data(args))
    assert env.routing_key == "journal.grade.recorded.v1"
    assert journal.GRADE_RECORDED.exchange == journal.EXCHANGE == "journal.events"
    loaded = journal.GradeRecorded().load(env.data)
    assert loaded["grade_id"] == "g-1" and loaded["grade"] == "4"

    args = tool.parser().parse_args(
        ["homework", "--iin", STUDENT, "--subject", "Физика", "--text", "§3", "--due", "2026-11-20"]
    )
    env = journal.HOMEWORK_ASSIGNED.make(tool.homework_data(args))
    assert env.routing_key == "journal.homework.assigned.v1"
    assert journal.HomeworkAssigned().load(env.data)["due_date"] == dt.date(2026, 11, 20)


def test_the_contract_refuses_what_it_cannot_use():
    base = {
        "homework_id": "h",
        "student_iin": STUDENT,
        "subject": "Физика",
        "text": "§3",
        "assigned_at": "2026-11-18T08:00:00+00:00",
    }
    journal.HomeworkAssigned().load({**base, "added_later": 1})  # unknown fields are ignored
    for broken in (
        {**base, "student_iin": "081009542947"},  # check digit
        {**base, "assigned_at": "2026-11-18T08:00:00"},  # no offset
        {k: v for k, v in base.items() if k != "text"},
    ):
        with pytest.raises(ValidationError):
            journal.HomeworkAssigned().load(broken)


def test_the_tool_reports_an_unreachable_broker(unused_port, capsys):
    code = tool.main(
        [
            "--amqp-url",
            f"amqp://guest:guest@127.0.0.1:{unused_port}/",
            "grade",
            "--iin",
            STUDENT,
            "--subject",
            "Физика",
            "--grade",
            "5",
        ]
    )
    assert code == 1
    assert "not published" in capsys.readouterr().err


def test_settings_from_the_environment():
    environ = {
        "SMS_PRICE_PER_SEGMENT": "12",
        "DIGEST_WEEKDAY": "Friday",
        "DIGEST_TIME": "17:30",
        "ATTACHMENT_MAX_BYTES": "1000",
        "PAYMENT_ADAPTER": "dev",
    }
    s = Settings.from_env(environ=environ)
    assert s.price_per_segment == 12 and s.digest_weekday == 4
    assert s.digest_time == dt.time(17, 30) and s.attachment_max_bytes == 1000
    assert "pepper" not in repr(s)
    with pytest.raises(ConfigError):
        Settings.from_env(environ={**environ, "DIGEST_WEEKDAY": "someday"})
    with pytest.raises(ConfigError):
        Settings.from_env(environ={**environ, "TIMEZONE": "Mars/Olympus"})
    with pytest.raises(ConfigError):
        Settings.from_env(environ={**environ, "SMS_PRICE_PER_SEGMENT": "-1"})


def test_default_settings():
    s = Settings()
    assert (s.digest_weekday, s.digest_time, s.timezone) == (6, dt.time(18, 0), "Asia/Almaty")
    assert s.attachment_max_bytes == 5 * 1024 * 1024
