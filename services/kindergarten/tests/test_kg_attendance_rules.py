"""Door codes and the rules of marks and monthly sheets, without I/O."""

import datetime as dt
from zoneinfo import ZoneInfo

from kindergarten.domain import attendance as a

ALMATY = ZoneInfo("Asia/Almaty")  # the service's TIMEZONE; the rules take it as an argument
SECRET = b"test-secret-not-for-production"
T0 = dt.datetime(2026, 11, 21, 4, 0, 0, tzinfo=dt.UTC)  # 09:00 in Almaty, a window start


def at(seconds):
    return T0 + dt.timedelta(seconds=seconds)


def test_code_is_stable_within_its_window_and_changes_after():
    first = a.current_code(SECRET, "kg-1", at(0), 30)
    assert first.code == a.current_code(SECRET, "kg-1", at(29), 30).code
    assert first.code != a.current_code(SECRET, "kg-1", at(30), 30).code
    assert len(first.code) == a.DIGITS and first.code.isdigit()
    assert first.valid_until - first.valid_from == dt.timedelta(seconds=30)
    assert first.valid_from <= at(10) < first.valid_until
    assert first.payload == f"edu-kg-door:v1:kg-1:{first.code}"


def test_current_and_previous_window_accepted_older_not():
    code = a.current_code(SECRET, "kg-1", at(0), 30).code
    assert a.code_is_valid(SECRET, "kg-1", code, at(0), 30)
    assert a.code_is_valid(SECRET, "kg-1", code, at(59), 30)  # shown at the edge of a window
    assert not a.code_is_valid(SECRET, "kg-1", code, at(60), 30)
    assert not a.code_is_valid(SECRET, "kg-1", code, at(-1), 30)  # not yet shown


def test_codes_differ_per_kindergarten_and_per_secret():
    code = a.current_code(SECRET, "kg-1", at(0), 30).code
    assert not a.code_is_valid(SECRET, "kg-2", code, at(0), 30)
    assert not a.code_is_valid(b"another-secret", "kg-1", code, at(0), 30)


def test_qr_payload_is_accepted_for_its_own_kindergarten_only():
    door = a.current_code(SECRET, "kg-1", at(0), 30)
    assert a.code_is_valid(SECRET, "kg-1", door.payload, at(5), 30)
    other = f"edu-kg-door:v1:kg-2:{door.code}"
    assert not a.code_is_valid(SECRET, "kg-1", other, at(5), 30)
    for junk in ("", "1234", "abcdefgh", "１２３４５６７８", door.code + "0"):
        assert not a.code_is_valid(SECRET, "kg-1", junk, at(5), 30)


def test_marks_alternate_in_and_out_within_a_day():
    assert a.sequence_refusal([], "in", at(0)) is None
    assert a.sequence_refusal([], "out", at(0)) == a.NOT_IN
    assert a.sequence_refusal([(at(0), "in")], "in", at(10)) == a.ALREADY_IN
    assert a.sequence_refusal([(at(0), "in")], "out", at(10)) is None
    day = [(at(0), "in"), (at(100), "out")]
    assert a.sequence_refusal(day, "in", at(200)) is None
    # A teacher's late entry must fit between the others.
    assert a.sequence_refusal(day, "out", at(50)) == a.NOT_IN
    assert a.sequence_refusal([(at(100), "out")], "in", at(50)) is None


def test_future_marks_and_approved_months_are_refused():
    assert a.mark_time_refusal(at(1), at(0), approved=False) == a.IN_FUTURE
    assert a.mark_time_refusal(at(0), at(0), approved=True) == a.MONTH_APPROVED
    assert a.mark_time_refusal(at(-60), at(0), approved=False) is None


def test_month_in_almaty_time():
    # 30 Nov 20:00 UTC is already 1 December in Almaty (UTC+5).
    late = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.UTC)
    assert a.month_of(late, ALMATY) == "2026-12"
    assert a.local_day(late, ALMATY) == dt.date(2026, 12, 1)
    start, end = a.month_bounds("2026-12", ALMATY)
    assert start <= late < end
    assert end == dt.datetime(2027, 1, 1, tzinfo=ALMATY)


def test_approval_only_for_a_current_or_past_month():
    now = at(0)
    assert a.approval_refusal("2026-11", now, ALMATY) is None
    assert a.approval_refusal("2026-10", now, ALMATY) is None
    assert a.approval_refusal("2026-12", now, ALMATY) == a.MONTH_IN_FUTURE
    for bad in ("2026-13", "2026-1", "26-11", ""):
        assert a.approval_refusal(bad, now, ALMATY) == a.MONTH_INVALID
