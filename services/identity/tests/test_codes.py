import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.domain import codes
from identity.domain.codes import (
    CODE_TTL,
    MAX_ATTEMPTS,
    MAX_SENDS,
    RESEND_INTERVAL,
    CheckResult,
    CodeState,
    ResendRefused,
    attempts_left,
    can_resend,
    check,
    code_matches,
    generate_code,
    hash_code,
    new_code,
    resend,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PEPPER = b"p" * 32
CHALLENGE = "ch-0001"


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def issue(now: datetime = NOW) -> tuple[str, CodeState]:
    return new_code(now, PEPPER, CHALLENGE)


def test_constants():
    assert timedelta(minutes=10) == CODE_TTL
    assert MAX_ATTEMPTS == 5
    assert timedelta(seconds=60) == RESEND_INTERVAL
    assert MAX_SENDS == 5


# --- Codes and their hashes -------------------------------------------------


def test_generated_codes_are_six_digits():
    for _ in range(200):
        assert re.fullmatch(r"\d{6}", generate_code())


def test_generated_codes_vary():
    assert len({generate_code() for _ in range(50)}) > 40


def test_hash_code_is_hmac_sha256_hex():
    digest = hash_code("123456", PEPPER, CHALLENGE)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hash_code("123456", PEPPER, CHALLENGE)


def test_hash_code_depends_on_code_pepper_and_challenge():
    base = hash_code("123456", PEPPER, CHALLENGE)
    assert hash_code("123457", PEPPER, CHALLENGE) != base
    assert hash_code("123456", b"q" * 32, CHALLENGE) != base
    assert hash_code("123456", PEPPER, "ch-0002") != base


def test_hash_code_separates_challenge_and_code():
    assert hash_code("23456", PEPPER, "ch-1") != hash_code("123456", PEPPER, "ch-")


def test_hash_code_rejects_a_short_pepper():
    with pytest.raises(ValueError, match="pepper"):
        hash_code("123456", b"short", CHALLENGE)
    with pytest.raises(ValueError, match="pepper"):
        hash_code("123456", b"", CHALLENGE)


def test_code_matches():
    stored = hash_code("123456", PEPPER, CHALLENGE)
    assert code_matches("123456", stored, PEPPER, CHALLENGE) is True
    assert code_matches("654321", stored, PEPPER, CHALLENGE) is False
    assert code_matches("123456", stored, PEPPER, "other") is False


# --- New code ---------------------------------------------------------------


def test_new_code_state():
    code, state = issue()
    assert re.fullmatch(r"\d{6}", code)
    assert state.code_hash == hash_code(code, PEPPER, CHALLENGE)
    assert code not in state.code_hash
    assert state.issued_at == NOW
    assert state.expires_at == NOW + CODE_TTL
    assert (state.attempts, state.sends) == (0, 1)
    assert state.last_sent_at == NOW
    assert state.used_at is None


def test_state_is_immutable():
    _, state = issue()
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.attempts = 0  # type: ignore[misc]


def test_naive_now_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        new_code(NOW.replace(tzinfo=None), PEPPER, CHALLENGE)
    code, state = issue()
    with pytest.raises(ValueError, match="timezone-aware"):
        check(state, code, NOW.replace(tzinfo=None), PEPPER, CHALLENGE)
    with pytest.raises(ValueError, match="timezone-aware"):
        can_resend(state, NOW.replace(tzinfo=None))


# --- Checking ---------------------------------------------------------------


def test_right_code_is_ok_and_marks_used():
    code, state = issue()
    result, after = check(state, code, NOW + timedelta(minutes=1), PEPPER, CHALLENGE)
    assert result is CheckResult.OK
    assert after.used_at == NOW + timedelta(minutes=1)
    assert after.attempts == 0


def test_surrounding_whitespace_is_ignored():
    code, state = issue()
    result, _ = check(state, f" {code}\n", NOW, PEPPER, CHALLENGE)
    assert result is CheckResult.OK


def test_replay_is_used():
    code, state = issue()
    _, used = check(state, code, NOW, PEPPER, CHALLENGE)
    result, after = check(used, code, NOW + timedelta(seconds=5), PEPPER, CHALLENGE)
    assert result is CheckResult.USED
    assert after == used


def test_wrong_code_costs_an_attempt():
    code, state = issue()
    result, after = check(state, wrong_code(code), NOW, PEPPER, CHALLENGE)
    assert result is CheckResult.WRONG
    assert after.attempts == 1
    assert after.used_at is None
    assert attempts_left(after) == MAX_ATTEMPTS - 1


# Full-width digits look like a code but are not ASCII.
@pytest.mark.parametrize(
    "entered", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_malformed_input_is_wrong(entered):
    _, state = issue()
    result, after = check(state, entered, NOW, PEPPER, CHALLENGE)
    assert result is CheckResult.WRONG
    assert after.attempts == 1


def test_code_is_valid_until_just_before_ten_minutes():
    code, state = issue()
    just_before = NOW + CODE_TTL - timedelta(microseconds=1)
    assert check(state, code, just_before, PEPPER, CHALLENGE)[0] is CheckResult.OK


def test_code_expires_exactly_at_ten_minutes():
    code, state = issue()
    result, after = check(state, code, NOW + CODE_TTL, PEPPER, CHALLENGE)
    assert result is CheckResult.EXPIRED
    assert after == state


def test_expired_wrong_code_costs_no_attempt():
    code, state = issue()
    result, after = check(state, wrong_code(code), NOW + CODE_TTL, PEPPER, CHALLENGE)
    assert result is CheckResult.EXPIRED
    assert after.attempts == 0


def test_fifth_wrong_try_then_exhausted():
    code, state = issue()
    bad = wrong_code(code)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result, state = check(state, bad, NOW, PEPPER, CHALLENGE)
        assert result is CheckResult.WRONG
        assert state.attempts == attempt
    assert attempts_left(state) == 0
    # Dead now, even for the right code, and further checks change nothing.
    result, after = check(state, code, NOW, PEPPER, CHALLENGE)
    assert result is CheckResult.EXHAUSTED
    assert after == state


def test_fourth_wrong_try_still_allows_the_right_code():
    code, state = issue()
    for _ in range(MAX_ATTEMPTS - 1):
        _, state = check(state, wrong_code(code), NOW, PEPPER, CHALLENGE)
    assert check(state, code, NOW, PEPPER, CHALLENGE)[0] is CheckResult.OK


def test_code_from_another_challenge_is_wrong():
    code, state = new_code(NOW, PEPPER, "ch-A")
    assert check(state, code, NOW, PEPPER, "ch-B")[0] is CheckResult.WRONG


def test_code_with_another_pepper_is_wrong():
    code, state = issue()
    assert check(state, code, NOW, b"x" * 32, CHALLENGE)[0] is CheckResult.WRONG


@given(st.text(max_size=10))
def test_check_never_accepts_anything_but_the_code(entered):
    code, state = issue()
    result, _ = check(state, entered, NOW, PEPPER, CHALLENGE)
    assert (result is CheckResult.OK) == (entered.strip() == code)


# --- Resending --------------------------------------------------------------


def test_resend_waits_sixty_seconds():
    _, state = issue()
    assert can_resend(state, NOW) == (False, 60)
    assert can_resend(state, NOW + timedelta(seconds=59)) == (False, 1)
    assert can_resend(state, NOW + timedelta(seconds=59, milliseconds=500)) == (False, 1)
    assert can_resend(state, NOW + RESEND_INTERVAL) == (True, 0)


def test_resend_gives_a_new_code_and_resets_attempts():
    old_code, state = issue()
    for _ in range(MAX_ATTEMPTS):
        _, state = check(state, wrong_code(old_code), NOW, PEPPER, CHALLENGE)
    later = NOW + timedelta(minutes=2)
    code, after = resend(state, later, PEPPER, CHALLENGE)
    assert after.attempts == 0
    assert after.sends == 2
    assert after.issued_at == after.last_sent_at == later
    assert after.expires_at == later + CODE_TTL
    assert after.code_hash == hash_code(code, PEPPER, CHALLENGE)
    assert check(after, code, later, PEPPER, CHALLENGE)[0] is CheckResult.OK


def test_old_code_stops_working_after_resend():
    old_code, state = issue()
    new, after = resend(state, NOW + RESEND_INTERVAL, PEPPER, CHALLENGE)
    if new != old_code:  # one chance in a million that they coincide
        assert check(after, old_code, NOW + RESEND_INTERVAL, PEPPER, CHALLENGE)[0] is (
            CheckResult.WRONG
        )


def test_resend_revives_an_expired_challenge():
    _, state = issue()
    later = NOW + CODE_TTL + timedelta(minutes=5)
    code, after = resend(state, later, PEPPER, CHALLENGE)
    assert check(after, code, later, PEPPER, CHALLENGE)[0] is CheckResult.OK


def test_resend_too_early_is_refused():
    _, state = issue()
    with pytest.raises(ResendRefused) as refused:
        resend(state, NOW + timedelta(seconds=30), PEPPER, CHALLENGE)
    assert refused.value.retry_after == 30


def test_at_most_five_sends_per_challenge():
    _, state = issue()
    at = NOW
    for sends in range(2, MAX_SENDS + 1):
        at += RESEND_INTERVAL
        _, state = resend(state, at, PEPPER, CHALLENGE)
        assert state.sends == sends
    at += timedelta(hours=1)
    assert can_resend(state, at) == (False, 0)
    with pytest.raises(ResendRefused) as refused:
        resend(state, at, PEPPER, CHALLENGE)
    assert refused.value.retry_after == 0


def test_no_resend_after_use():
    code, state = issue()
    _, used = check(state, code, NOW, PEPPER, CHALLENGE)
    assert can_resend(used, NOW + timedelta(minutes=5)) == (False, 0)


def test_module_exports_are_consistent():
    assert codes.CODE_LENGTH == 6
    assert {r.value for r in CheckResult} == {"ok", "wrong", "expired", "exhausted", "used"}


def test_phones_are_masked_to_a_hint_their_owner_recognises():
    from identity.usecases.common import mask_phone

    assert mask_phone("+77010000001") == "+7 701 ***-**-01"
    assert mask_phone("+998901234567") == "+99********67"
    assert "1234" not in mask_phone("+77011234567")
