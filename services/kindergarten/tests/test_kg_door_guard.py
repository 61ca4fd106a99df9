"""The pure rules of wrong door codes and of the teacher's correction window."""

import datetime as dt
import zoneinfo

from kindergarten.domain import attendance as att
from kindergarten.domain import door_guard as guard

NOW = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)
POLICY = guard.Policy(
    free=3,
    delay=dt.timedelta(seconds=15),
    max_delay=dt.timedelta(minutes=5),
    lock_after=10,
    lock=dt.timedelta(hours=1),
    window=dt.timedelta(hours=1),
)
ALMATY = zoneinfo.ZoneInfo("Asia/Almaty")


def fail(times: int, at=NOW) -> guard.Counter:
    counter = guard.Counter()
    for _ in range(times):
        counter = guard.after_failure(counter, at, POLICY)
    return counter


def test_the_first_wrong_codes_cost_nothing():
    counter = fail(3)
    assert counter.failures == 3 and counter.wait_until is None
    assert guard.refusal(counter, NOW, POLICY) is None


def test_each_further_wrong_code_doubles_the_wait_up_to_the_cap():
    waits = [guard.wait_after(n, POLICY).total_seconds() for n in range(1, 10)]
    assert waits == [0, 0, 0, 15, 30, 60, 120, 240, 300]
    counter = fail(4)
    refused = guard.refusal(counter, NOW, POLICY)
    assert refused.code == guard.DELAYED and refused.retry_after(NOW) == 15
    assert guard.refusal(counter, NOW + dt.timedelta(seconds=15), POLICY) is None


def test_the_threshold_locks_and_the_lock_outlasts_the_waits():
    before = fail(9)
    after = guard.after_failure(before, NOW, POLICY)
    assert guard.locks_now(before, after, NOW)
    refused = guard.refusal(after, NOW + dt.timedelta(minutes=30), POLICY)
    assert refused.code == guard.LOCKED and refused.retry_after(NOW) == 3600
    # Once locked, a later failure is not "the one that locked" again.
    again = guard.after_failure(after, NOW + dt.timedelta(minutes=1), POLICY)
    assert not guard.locks_now(after, again, NOW + dt.timedelta(minutes=1))
    assert guard.refusal(after, NOW + dt.timedelta(hours=1), POLICY) is None


def test_a_quiet_window_starts_the_count_again():
    counter = fail(8)
    later = NOW + dt.timedelta(hours=1)
    assert guard.current(counter, later, POLICY) == guard.Counter()
    assert guard.after_failure(counter, later, POLICY).failures == 1
    # Not yet quiet: the count goes on.
    assert guard.after_failure(counter, NOW + dt.timedelta(minutes=59), POLICY).failures == 9


def test_teachers_correct_today_and_yesterday_only():
    now = dt.datetime(2026, 11, 20, 5, 0, tzinfo=dt.UTC)  # 10:00 on the 20th in Almaty
    yesterday_morning = dt.datetime(2026, 11, 18, 19, 30, tzinfo=dt.UTC)  # 00:30 on the 19th
    before_yesterday = dt.datetime(2026, 11, 18, 18, 30, tzinfo=dt.UTC)  # 23:30 on the 18th
    assert att.within_correction_window(now, now, ALMATY, 1)
    assert att.within_correction_window(yesterday_morning, now, ALMATY, 1)
    assert not att.within_correction_window(before_yesterday, now, ALMATY, 1)
    assert att.within_correction_window(before_yesterday, now, ALMATY, 2)
    assert not att.within_correction_window(yesterday_morning, now, ALMATY, 0)
