# Cyrillic and other non-Latin letters and digits are the point of several cases.
import re
import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identity.domain import passwords as pw
from identity.domain.passwords import (
    HISTORY_DEPTH,
    LENIENT,
    MAX_AGE,
    STRICT,
    PasswordHasher,
    change_required,
    describe,
    policy_named,
    reuses_recent,
    violations,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    # Lowest argon2 parameters, for speed; the defaults are checked separately.
    return PasswordHasher(memory_cost=8, time_cost=1, parallelism=1)


# --- Policies ---------------------------------------------------------------


def test_policy_named_returns_known_policies():
    assert policy_named("strict") is STRICT
    assert policy_named("lenient") is LENIENT
    assert policy_named(" Strict ") is STRICT


def test_policy_named_rejects_unknown():
    with pytest.raises(ValueError, match="unknown password policy"):
        policy_named("medium")


def test_policies_are_immutable():
    with pytest.raises(AttributeError):
        STRICT.min_length = 4  # type: ignore[misc]


def test_policy_parameters():
    assert (STRICT.min_length, STRICT.max_length) == (8, 128)
    assert (LENIENT.min_length, LENIENT.max_length) == (7, 128)


@pytest.mark.parametrize(
    "password",
    ["Abcdef1*", "Abcdef1-", "Abcdef1#", "Abcdef1!", "Пароль1*", "Құпия1ҚӨ!", "Ab 1cdefg"],
)
def test_strict_accepts(password):
    assert violations(password, policy=STRICT) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Abcde1*", ["too_short"]),  # 7 characters
        ("abcdef1*", ["needs_upper"]),
        ("ABCDEF1*", ["needs_lower"]),
        ("Abcdefg*", ["needs_digit"]),
        ("Abcdefg1", ["needs_special"]),
        ("", ["too_short", "needs_digit", "needs_lower", "needs_upper", "needs_special"]),
    ],
)
def test_strict_rejects(password, expected):
    assert violations(password, policy=STRICT) == expected


def test_strict_length_boundary_7_vs_8():
    assert violations("Abcde1*", policy=STRICT) == ["too_short"]
    assert violations("Abcdef1*", policy=STRICT) == []


def test_strict_digits_are_ascii_only():
    # "١" is an Arabic-Indic digit: alphanumeric, so neither a digit nor special.
    assert violations("Abcdef١*", policy=STRICT) == ["needs_digit"]


@pytest.mark.parametrize("password", ["abcdef1", "ABCDEF1", "1234abc", "abc1234", "пароль1abc"])
def test_lenient_accepts(password):
    assert violations(password, policy=LENIENT) == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("abcde1", ["too_short"]),  # 6 characters
        ("abcdefg", ["needs_digit"]),
        ("1234567", ["needs_latin_letter"]),
        ("пароль12", ["needs_latin_letter"]),  # Cyrillic letters are not Latin
        ("", ["too_short", "needs_digit", "needs_latin_letter"]),
    ],
)
def test_lenient_rejects(password, expected):
    assert violations(password, policy=LENIENT) == expected


def test_lenient_length_boundary_6_vs_7():
    assert violations("abcde1", policy=LENIENT) == ["too_short"]
    assert violations("abcdef1", policy=LENIENT) == []


@pytest.mark.parametrize("policy", [STRICT, LENIENT])
def test_max_length_boundary_128_vs_129(policy):
    base = "Aa1*"
    assert violations(base + "x" * 124, policy=policy) == []
    assert violations(base + "x" * 125, policy=policy) == ["too_long"]


@pytest.mark.parametrize("policy", [STRICT, LENIENT])
@pytest.mark.parametrize("password", [" Abcdef1*", "Abcdef1* ", "\tAbcdef1*", "Abcdef1*\n"])
def test_whitespace_at_edges_is_rejected(policy, password):
    assert violations(password, policy=policy) == ["whitespace_edges"]


@pytest.mark.parametrize("policy", [STRICT, LENIENT])
def test_email_local_part_is_personal_data(policy):
    assert violations("Aidana#2024", policy=policy, email="aidana@mail.kz") == [
        "contains_personal_data"
    ]
    # Case does not hide it.
    assert violations("AIDANA#2024x", policy=policy, email="Aidana@mail.kz") == [
        "contains_personal_data"
    ]
    # The domain is not personal data.
    assert violations("Mail.kz#2024", policy=policy, email="aidana@mail.kz") == []


def test_short_email_local_part_is_ignored():
    assert violations("Abcdef1*", policy=STRICT, email="abc@mail.kz") == []
    assert violations("Abcdef1*", policy=STRICT, email="bcde@mail.kz") == ["contains_personal_data"]


@pytest.mark.parametrize("policy", [STRICT, LENIENT])
def test_iin_is_personal_data(policy):
    iin = "950423451048"
    assert violations(f"Aa*{iin}", policy=policy, iin=iin) == ["contains_personal_data"]
    assert violations("Aa*95042345104", policy=policy, iin=iin) == []


def test_no_context_means_no_personal_data_check():
    assert violations("Aidana#2024", policy=STRICT, email=None, iin=None) == []
    assert violations("Aidana#2024", policy=STRICT, email="", iin="") == []


def test_violations_are_reported_together_in_stable_order():
    assert violations(" ab ", policy=STRICT, email="ab@x.kz") == [
        "too_short",
        "whitespace_edges",
        "needs_digit",
        "needs_upper",
    ]
    assert violations(" 950423451048", policy=LENIENT, iin="950423451048") == [
        "whitespace_edges",
        "needs_latin_letter",
        "contains_personal_data",
    ]


@given(
    core=st.tuples(
        st.sampled_from(string.ascii_lowercase),
        st.sampled_from(string.ascii_uppercase),
        st.sampled_from(string.digits),
        st.sampled_from("*-#!@$%^&()_+=[]{};:,.?/"),
    ),
    filler=st.text(alphabet=string.ascii_letters + string.digits, min_size=4, max_size=100),
)
def test_strict_accepts_any_password_with_every_class(core, filler):
    assert violations("".join(core) + filler, policy=STRICT) == []


@given(st.text(max_size=140))
def test_violation_codes_are_known_and_unique(password):
    codes = violations(password, policy=STRICT, email="someone@mail.kz", iin="950423451048")
    assert len(codes) == len(set(codes))
    assert set(codes) <= set(pw.ALL_CODES)
    assert codes == sorted(codes, key=pw.ALL_CODES.index)


# --- Messages ---------------------------------------------------------------


@pytest.mark.parametrize("code", pw.ALL_CODES)
@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_every_code_has_a_message_in_every_language(code, lang):
    message = describe(code, lang)
    assert message
    assert message != code


def test_messages_differ_by_language():
    assert len({describe("needs_digit", lang) for lang in ("en", "ru", "kk")}) == 3


def test_length_messages_name_the_limit_when_given_the_policy():
    assert "8" in describe("too_short", "ru", policy=STRICT)
    assert "7" in describe("too_short", "kk", policy=LENIENT)
    assert "128" in describe("too_long", "en", policy=STRICT)
    assert not re.search(r"\d", describe("too_short", "en"))


def test_describe_rejects_unknown_code_and_language():
    with pytest.raises(ValueError, match="code"):
        describe("too_weak", "en")
    with pytest.raises(ValueError, match="language"):
        describe("too_short", "de")


# --- Hashing ----------------------------------------------------------------


def test_default_parameters_are_owasp_argon2id():
    encoded = PasswordHasher().hash("Abcdef1*")
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", encoded)
    assert match is not None, encoded
    assert tuple(int(g) for g in match.groups()) == (19456, 2, 1)


def test_hash_and_verify(hasher):
    encoded = hasher.hash("Abcdef1*")
    assert encoded.startswith("$argon2id$")
    assert "Abcdef1*" not in encoded
    assert hasher.verify(encoded, "Abcdef1*") is True
    assert hasher.verify(encoded, "Abcdef1#") is False
    assert hasher.verify(encoded, "") is False


def test_hashes_are_salted(hasher):
    assert hasher.hash("Abcdef1*") != hasher.hash("Abcdef1*")


def test_non_ascii_passwords_round_trip(hasher):
    encoded = hasher.hash("Құпия1ҚӨ!")
    assert hasher.verify(encoded, "Құпия1ҚӨ!")
    assert not hasher.verify(encoded, "Құпия1ҚӨ?")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$2b$12$abcdefghijklmnopqrstuv",  # bcrypt
        "$argon2id$v=19$m=8,t=1,p=1$xx$yy",
        None,
    ],
)
def test_verify_never_raises_on_a_malformed_hash(hasher, malformed):
    assert hasher.verify(malformed, "Abcdef1*") is False


def test_verify_rejects_a_truncated_hash(hasher):
    encoded = hasher.hash("Abcdef1*")
    assert hasher.verify(encoded[:-4], "Abcdef1*") is False


def test_verify_dummy_is_always_false(hasher):
    assert hasher.verify_dummy("Abcdef1*") is False
    assert hasher.verify_dummy("") is False


def test_verify_dummy_uses_the_hasher_parameters():
    # The same parameters make the dummy check cost what a real one costs.
    fast = PasswordHasher(memory_cost=16, time_cost=1, parallelism=1)
    assert not fast.needs_rehash(fast._dummy_hash)


def test_needs_rehash(hasher):
    current = hasher.hash("Abcdef1*")
    assert hasher.needs_rehash(current) is False
    stronger = PasswordHasher(memory_cost=16, time_cost=2, parallelism=1)
    assert stronger.needs_rehash(current) is True
    assert hasher.needs_rehash("not a hash") is True


# --- History ----------------------------------------------------------------


def test_reuses_recent_matches_any_of_the_last_five(hasher):
    history = [hasher.hash(f"Old-pass{i}") for i in range(HISTORY_DEPTH)]
    for i in range(HISTORY_DEPTH):
        assert reuses_recent(f"Old-pass{i}", history, hasher) is True
    assert reuses_recent("Brand-new1", history, hasher) is False


def test_reuses_recent_ignores_older_than_five(hasher):
    history = [hasher.hash(f"Old-pass{i}") for i in range(HISTORY_DEPTH + 1)]
    assert reuses_recent(f"Old-pass{HISTORY_DEPTH - 1}", history, hasher) is True
    assert reuses_recent(f"Old-pass{HISTORY_DEPTH}", history, hasher) is False


def test_reuses_recent_with_empty_or_broken_history(hasher):
    assert reuses_recent("Abcdef1*", [], hasher) is False
    assert reuses_recent("Abcdef1*", ["garbage"], hasher) is False


# --- Age --------------------------------------------------------------------


def test_max_age_is_45_days():
    assert timedelta(days=45) == MAX_AGE


def test_change_required_by_age_boundary():
    assert change_required(NOW - MAX_AGE + timedelta(seconds=1), NOW) is False
    assert change_required(NOW - MAX_AGE, NOW) is True
    assert change_required(NOW - timedelta(days=100), NOW) is True


def test_change_required_when_flagged():
    assert change_required(NOW, NOW, must_change=True) is True
    assert change_required(NOW, NOW) is False


def test_change_required_when_never_set():
    assert change_required(None, NOW) is True


def test_change_not_required_for_a_future_change_time():
    # Clock skew between writers must not force a change.
    assert change_required(NOW + timedelta(minutes=1), NOW) is False


def test_change_required_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        change_required(NOW, NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        change_required(NOW.replace(tzinfo=None), NOW)
