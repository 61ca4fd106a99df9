import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.domain.throttle import (
    CODE_GUESSES_PER_TARGET,
    CODE_PER_TARGET,
    EMAIL_CODE_PER_TARGET,
    PASSWORD_PER_ACCOUNT,
    PASSWORD_PER_CLIENT,
    Decision,
    FailureRecord,
    ThrottleRule,
    decide,
    delay_for,
    describe_rule,
    parse_rule,
    quota,
    record_failure,
    record_success,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RULE = PASSWORD_PER_ACCOUNT
ALLOWED = Decision(allowed=True, retry_after=0, locked=False)


def fail(times: int, *, start: datetime = NOW, step: timedelta = timedelta(0), rule=RULE):
    """Record `times` failures `step` apart; returns the record and the last time."""
    record, at = FailureRecord.empty(), start
    for i in range(times):
        at = start + step * i
        record, _ = record_failure(record, rule, at)
    return record, at


def test_default_account_rule():
    assert (
        ThrottleRule(
            free_failures=3,
            max_delay=timedelta(seconds=60),
            lock_after=10,
            lock_for=timedelta(minutes=15),
            window=timedelta(minutes=15),
        )
        == RULE
    )


def test_client_rule_is_only_a_high_ceiling():
    # Thirty people behind one address, each mistyping a few times, never meet it.
    assert PASSWORD_PER_CLIENT.free_failures >= 90
    assert PASSWORD_PER_CLIENT.lock_after == 200
    assert PASSWORD_PER_CLIENT.lock_for == timedelta(minutes=15)
    assert PASSWORD_PER_CLIENT.window == timedelta(minutes=15)
    assert PASSWORD_PER_CLIENT.free_failures > RULE.free_failures


def test_code_rules_exist():
    for rule in (CODE_PER_TARGET, EMAIL_CODE_PER_TARGET):
        assert rule.lock_after >= 1
        assert rule.free_failures < rule.lock_after


@pytest.mark.parametrize(
    "kwargs",
    [
        {"free_failures": -1},
        {"lock_after": 0},
        {"max_delay": timedelta(0)},
        {"lock_for": timedelta(seconds=-1)},
        {"window": timedelta(0)},
    ],
)
def test_invalid_rules_are_rejected(kwargs):
    with pytest.raises(ValueError):
        dataclasses.replace(RULE, **kwargs)


def test_empty_record_is_allowed():
    assert FailureRecord.empty() == FailureRecord(0, None, None, None)
    assert decide(FailureRecord.empty(), RULE, NOW) == ALLOWED


def test_records_and_decisions_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FailureRecord.empty().failures = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALLOWED.allowed = False  # type: ignore[misc]


# --- Growing delay ----------------------------------------------------------


def test_delay_sequence():
    seconds = [delay_for(n, RULE).total_seconds() for n in range(0, 10)]
    assert seconds == [0, 0, 0, 0, 2, 4, 8, 16, 32, 60]


def test_delay_is_capped_for_huge_counts():
    assert delay_for(10_000, RULE) == timedelta(seconds=60)


@given(st.integers(min_value=0, max_value=500))
def test_delay_never_shrinks_and_stays_under_the_cap(n):
    assert delay_for(n, RULE) <= delay_for(n + 1, RULE) <= RULE.max_delay


def test_first_three_failures_are_free():
    for n in range(1, 4):
        record, at = fail(n)
        assert decide(record, RULE, at) == ALLOWED


@pytest.mark.parametrize(("failures", "wait"), [(4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60)])
def test_wait_after_each_failure(failures, wait):
    record, at = fail(failures)
    assert decide(record, RULE, at) == Decision(allowed=False, retry_after=wait, locked=False)
    almost = at + timedelta(seconds=wait) - timedelta(milliseconds=1)
    assert decide(record, RULE, almost) == Decision(allowed=False, retry_after=1, locked=False)
    assert decide(record, RULE, at + timedelta(seconds=wait)) == ALLOWED


def test_delay_counts_from_the_last_failure():
    record, at = fail(5, step=timedelta(seconds=30))
    assert decide(record, RULE, at + timedelta(seconds=1)).retry_after == 3


def test_record_failure_keeps_first_and_last_times():
    record, at = fail(3, step=timedelta(seconds=10))
    assert record.failures == 3
    assert record.first_failure_at == NOW
    assert record.last_failure_at == at == NOW + timedelta(seconds=20)
    assert record.locked_until is None


# --- Lock -------------------------------------------------------------------


def test_tenth_failure_locks_once():
    record, at = fail(9)
    assert record.locked_until is None
    record, just_locked = record_failure(record, RULE, at)
    assert just_locked is True
    assert record.failures == 10
    assert record.locked_until == at + RULE.lock_for
    assert decide(record, RULE, at) == Decision(allowed=False, retry_after=900, locked=True)


def test_failure_while_locked_does_not_extend_or_relock():
    record, at = fail(10)
    later = at + timedelta(minutes=5)
    after, just_locked = record_failure(record, RULE, later)
    assert just_locked is False
    assert after.locked_until == record.locked_until
    assert after.failures == 11
    assert decide(after, RULE, later).retry_after == 600


def test_outcome_unpacks_and_names_its_fields():
    outcome = record_failure(FailureRecord.empty(), RULE, NOW)
    assert outcome.just_locked is False
    assert outcome.record.failures == 1


def test_unlock_after_lock_for():
    record, _ = fail(10)
    unlock = record.locked_until
    assert decide(record, RULE, unlock - timedelta(seconds=1)) == Decision(
        allowed=False, retry_after=1, locked=True
    )
    assert decide(record, RULE, unlock) == ALLOWED


def test_after_unlock_the_count_starts_over():
    record, _ = fail(10)
    unlock = record.locked_until
    after, just_locked = record_failure(record, RULE, unlock)
    assert just_locked is False
    assert after == FailureRecord(1, unlock, unlock, None)
    assert decide(after, RULE, unlock) == ALLOWED


def test_lock_needs_the_failures_within_the_window():
    # Nine failures in the window, then the tenth after it: no lock.
    record, _ = fail(9, step=timedelta(seconds=60))
    tenth = NOW + RULE.window
    after, just_locked = record_failure(record, RULE, tenth)
    assert just_locked is False
    assert after == FailureRecord(1, tenth, tenth, None)


def test_lock_after_one_is_immediate():
    rule = dataclasses.replace(RULE, free_failures=0, lock_after=1)
    record, just_locked = record_failure(FailureRecord.empty(), rule, NOW)
    assert just_locked is True
    assert decide(record, rule, NOW).locked is True


# --- Window -----------------------------------------------------------------


def test_window_reset_on_decide():
    record, _ = fail(8)
    assert decide(record, RULE, NOW + RULE.window - timedelta(seconds=1)) == ALLOWED
    # Before the window ends the delay still applies when checked early.
    assert decide(record, RULE, NOW + timedelta(seconds=10)).allowed is False


def test_window_reset_on_record_failure():
    record, _ = fail(8)
    just_inside = NOW + RULE.window - timedelta(seconds=1)
    inside, _ = record_failure(record, RULE, just_inside)
    assert inside.failures == 9
    assert inside.first_failure_at == NOW
    at_end = NOW + RULE.window
    reset, _ = record_failure(record, RULE, at_end)
    assert reset == FailureRecord(1, at_end, at_end, None)


def test_window_counts_from_the_first_failure():
    record, _ = fail(3, step=timedelta(minutes=7))  # failures at 0, 7 and 14 minutes
    assert record.failures == 3
    after, _ = record_failure(record, RULE, NOW + timedelta(minutes=15))
    assert after.failures == 1


# --- Success ----------------------------------------------------------------


def test_success_resets():
    assert record_success() == FailureRecord.empty()
    record, at = fail(6)
    assert decide(record, RULE, at).allowed is False
    assert decide(record_success(), RULE, at) == ALLOWED


# --- Other rules ------------------------------------------------------------


def test_client_rule_sequence():
    rule = PASSWORD_PER_CLIENT
    record, at = fail(rule.free_failures, rule=rule)
    assert decide(record, rule, at) == ALLOWED
    record, at = fail(rule.lock_after - 1, rule=rule)
    assert decide(record, rule, at).locked is False
    record, just_locked = record_failure(record, rule, at)
    assert just_locked is True
    assert decide(record, rule, at).locked is True


def test_naive_now_is_rejected():
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(FailureRecord.empty(), RULE, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        record_failure(FailureRecord.empty(), RULE, naive)


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=3600), min_size=1, max_size=40),
)
def test_lock_is_reported_exactly_when_it_starts(gaps):
    record, at = FailureRecord.empty(), NOW
    for gap in gaps:
        at += timedelta(seconds=gap)
        was_locked = decide(record, RULE, at).locked
        record, just_locked = record_failure(record, RULE, at)
        now_locked = decide(record, RULE, at).locked
        assert just_locked == (not was_locked and now_locked)
        assert record.failures <= RULE.lock_after or was_locked


# --- Rules from settings ----------------------------------------------------


def test_a_quota_allows_count_then_closes_for_the_window():
    rule = quota(3, timedelta(hours=1))
    record, at = FailureRecord.empty(), NOW
    for i in range(3):
        assert decide(record, rule, at + timedelta(seconds=i)) == ALLOWED  # no delays
        record, locked = record_failure(record, rule, at + timedelta(seconds=i))
        assert locked is (i == 2)
    assert decide(record, rule, NOW + timedelta(minutes=59)).allowed is False
    assert decide(record, rule, NOW + timedelta(seconds=2) + timedelta(hours=1)) == ALLOWED


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("6/60", quota(6, timedelta(minutes=60))),
        ("100/200/15", PASSWORD_PER_CLIENT),
        (" 5 / 15 / 60 ", CODE_GUESSES_PER_TARGET),
    ],
)
def test_rules_are_read_from_settings_text(text, rule):
    assert parse_rule(text) == rule
    assert parse_rule(describe_rule(rule)) == rule


@pytest.mark.parametrize("text", ["", "6", "a/b", "0/60", "6/0", "1/2/3/4", "-1/5/10", "5/0/10"])
def test_bad_rule_text_is_refused(text):
    with pytest.raises(ValueError):
        parse_rule(text)


def test_limits_are_settings_with_their_variables():
    from identity.settings import Settings

    s = Settings.from_env(
        environ={"SMS_PER_PHONE": "2/30", "LOGIN_FAILURES_PER_ADDRESS": "10/20/5",
                 "ONE_TIME_PASSWORD_TTL_HOURS": "24", "REGISTRATION_MAX_SMS": "4"}
    )  # fmt: skip
    assert s.sms_per_phone == quota(2, timedelta(minutes=30))
    assert s.login_failures_per_address.free_failures == 10
    assert s.one_time_password_ttl == timedelta(hours=24) and s.registration_max_sms == 4
    defaults = Settings()
    assert defaults.login_failures_per_address == PASSWORD_PER_CLIENT
    assert defaults.sms_per_address.lock_after >= 100  # a high ceiling, not a limit on a class
