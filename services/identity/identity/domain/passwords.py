"""Password rules: policies, hashing, history and age.

Pure rules: no clock, no storage. Callers pass `now` and the stored hashes.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

# --- Policies ---------------------------------------------------------------

MAX_LENGTH = 128
# An e-mail local part shorter than this is too common a substring to reject
# passwords for (e.g. "ab@mail.kz" would ban every password containing "ab").
PERSONAL_DATA_MIN_LENGTH = 4

TOO_SHORT = "too_short"
TOO_LONG = "too_long"
NEEDS_DIGIT = "needs_digit"
NEEDS_LOWER = "needs_lower"
NEEDS_UPPER = "needs_upper"
NEEDS_SPECIAL = "needs_special"
NEEDS_LATIN_LETTER = "needs_latin_letter"
WHITESPACE_EDGES = "whitespace_edges"
CONTAINS_PERSONAL_DATA = "contains_personal_data"

# Order in which violations() reports codes, so clients can rely on it.
ALL_CODES = (
    TOO_SHORT,
    TOO_LONG,
    WHITESPACE_EDGES,
    NEEDS_DIGIT,
    NEEDS_LOWER,
    NEEDS_UPPER,
    NEEDS_SPECIAL,
    NEEDS_LATIN_LETTER,
    CONTAINS_PERSONAL_DATA,
)

_ASCII_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class PasswordPolicy:
    """One deployment's password rules (setting PASSWORD_POLICY)."""

    name: str
    min_length: int
    max_length: int = MAX_LENGTH
    require_digit: bool = False
    require_lower: bool = False
    require_upper: bool = False
    require_special: bool = False
    require_latin_letter: bool = False


# Seed 000: 8+ characters, a digit, lower- and upper-case letters, a special one.
STRICT = PasswordPolicy(
    name="strict",
    min_length=8,
    require_digit=True,
    require_lower=True,
    require_upper=True,
    require_special=True,
)
# Seed 001: 7+ characters with digits and Latin letters.
LENIENT = PasswordPolicy(
    name="lenient",
    min_length=7,
    require_digit=True,
    require_latin_letter=True,
)

POLICIES: dict[str, PasswordPolicy] = {p.name: p for p in (STRICT, LENIENT)}


def policy_named(name: str) -> PasswordPolicy:
    """The policy for a PASSWORD_POLICY setting value; ValueError if unknown."""
    policy = POLICIES.get(name.strip().lower())
    if policy is None:
        known = ", ".join(sorted(POLICIES))
        raise ValueError(f"unknown password policy {name!r}; expected one of: {known}")
    return policy


def _is_special(ch: str) -> bool:
    return ch.isprintable() and not ch.isalnum()


def _personal_fragments(email: str | None, iin: str | None) -> list[str]:
    fragments = []
    if email:
        local = email.rsplit("@", 1)[0].strip()
        if len(local) >= PERSONAL_DATA_MIN_LENGTH:
            fragments.append(local.casefold())
    if iin and iin.strip():
        fragments.append(iin.strip())
    return fragments


def violations(
    password: str,
    *,
    policy: PasswordPolicy,
    email: str | None = None,
    iin: str | None = None,
) -> list[str]:
    """Machine codes of every rule the password breaks, in ALL_CODES order; [] if none."""
    found = []
    if len(password) < policy.min_length:
        found.append(TOO_SHORT)
    if len(password) > policy.max_length:
        found.append(TOO_LONG)
    if password != password.strip():
        found.append(WHITESPACE_EDGES)
    if policy.require_digit and not any(ch in _ASCII_DIGITS for ch in password):
        found.append(NEEDS_DIGIT)
    # Letter case is checked in any script: Kazakh and Russian letters count.
    if policy.require_lower and not any(ch.islower() for ch in password):
        found.append(NEEDS_LOWER)
    if policy.require_upper and not any(ch.isupper() for ch in password):
        found.append(NEEDS_UPPER)
    if policy.require_special and not any(_is_special(ch) for ch in password):
        found.append(NEEDS_SPECIAL)
    if policy.require_latin_letter and not any(ch in _ASCII_LETTERS for ch in password):
        found.append(NEEDS_LATIN_LETTER)
    folded = password.casefold()
    if any(fragment in folded for fragment in _personal_fragments(email, iin)):
        found.append(CONTAINS_PERSONAL_DATA)
    return found


LANGUAGES = ("kk", "ru", "en")

_MESSAGES: dict[str, dict[str, str]] = {
    TOO_SHORT: {
        "en": "The password is too short.",
        "ru": "Пароль слишком короткий.",
        "kk": "Құпиясөз тым қысқа.",
    },
    TOO_LONG: {
        "en": "The password is too long.",
        "ru": "Пароль слишком длинный.",
        "kk": "Құпиясөз тым ұзын.",
    },
    NEEDS_DIGIT: {
        "en": "The password must contain at least one digit.",
        "ru": "Пароль должен содержать хотя бы одну цифру.",
        "kk": "Құпиясөзде кемінде бір цифр болуы керек.",
    },
    NEEDS_LOWER: {
        "en": "The password must contain at least one lower-case letter.",
        "ru": "Пароль должен содержать хотя бы одну строчную букву.",
        "kk": "Құпиясөзде кемінде бір кіші әріп болуы керек.",
    },
    NEEDS_UPPER: {
        "en": "The password must contain at least one upper-case letter.",
        "ru": "Пароль должен содержать хотя бы одну прописную букву.",
        "kk": "Құпиясөзде кемінде бір бас әріп болуы керек.",
    },
    NEEDS_SPECIAL: {
        "en": "The password must contain at least one special character, such as * - # !",
        "ru": "Пароль должен содержать хотя бы один специальный символ, например * - # !",
        "kk": "Құпиясөзде кемінде бір арнайы таңба болуы керек, мысалы * - # !",
    },
    NEEDS_LATIN_LETTER: {
        "en": "The password must contain Latin letters.",
        "ru": "Пароль должен содержать буквы латинского алфавита.",
        "kk": "Құпиясөзде латын әліпбиінің әріптері болуы керек.",
    },
    WHITESPACE_EDGES: {
        "en": "The password must not begin or end with a space.",
        "ru": "Пароль не должен начинаться или заканчиваться пробелом.",
        "kk": "Құпиясөз бос орынмен басталмауы және аяқталмауы керек.",
    },
    CONTAINS_PERSONAL_DATA: {
        "en": "The password must not contain your IIN or the name of your e-mail address.",
        "ru": "Пароль не должен содержать ваш ИИН или имя вашего почтового ящика.",
        "kk": "Құпиясөзде сіздің ЖСН-іңіз немесе электрондық поштаңыздың атауы болмауы керек.",
    },
}

# With a policy at hand the length messages can name the limit.
_LENGTH_MESSAGES: dict[str, dict[str, str]] = {
    TOO_SHORT: {
        "en": "The password must be at least {n} characters long.",
        "ru": "Пароль должен содержать не менее {n} символов.",
        "kk": "Құпиясөз кемінде {n} таңбадан тұруы керек.",
    },
    TOO_LONG: {
        "en": "The password must be at most {n} characters long.",
        "ru": "Пароль должен содержать не более {n} символов.",
        "kk": "Құпиясөз {n} таңбадан аспауы керек.",
    },
}


def describe(code: str, lang: str, *, policy: PasswordPolicy | None = None) -> str:
    """A message a person can read for a violation code, in "en", "ru" or "kk".

    Given the policy, the length messages state the limit. ValueError on an
    unknown code or language.
    """
    if code not in _MESSAGES:
        raise ValueError(f"unknown password violation code {code!r}")
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; expected one of: {LANGUAGES}")
    if policy is not None and code in _LENGTH_MESSAGES:
        limit = policy.min_length if code == TOO_SHORT else policy.max_length
        return _LENGTH_MESSAGES[code][lang].format(n=limit)
    return _MESSAGES[code][lang]


# --- Hashing ----------------------------------------------------------------

# OWASP Password Storage Cheat Sheet, argon2id minimum configuration.
DEFAULT_MEMORY_COST = 19456  # KiB = 19 MiB
DEFAULT_TIME_COST = 2
DEFAULT_PARALLELISM = 1


class PasswordHasher:
    """argon2id hashing; encoded hashes carry their own parameters and salt."""

    def __init__(
        self,
        *,
        memory_cost: int = DEFAULT_MEMORY_COST,
        time_cost: int = DEFAULT_TIME_COST,
        parallelism: int = DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        # Made once with this hasher's own parameters, so that checking a login
        # for an account that does not exist costs the same as for one that does.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True if the password matches; False on mismatch or a malformed hash."""
        if not isinstance(password_hash, str) or not password_hash:
            # An account without a usable hash must not answer faster either.
            return self.verify_dummy(password)
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> bool:
        """Spend the time of one verification; always False."""
        with contextlib.suppress(VerificationError):
            self._hasher.verify(self._dummy_hash, password)
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True if the hash was made with other parameters (or cannot be read)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True


# --- History and age --------------------------------------------------------

HISTORY_DEPTH = 5
MAX_AGE = timedelta(days=45)


def reuses_recent(password: str, recent_hashes: list[str], hasher: PasswordHasher) -> bool:
    """True if the password matches one of the last HISTORY_DEPTH hashes.

    `recent_hashes` is newest first and includes the current password's hash.
    """
    return any(hasher.verify(h, password) for h in recent_hashes[:HISTORY_DEPTH])


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def change_required(
    changed_at: datetime | None, now: datetime, *, must_change: bool = False
) -> bool:
    """True if the user must set a new password before going on.

    `must_change` marks one-time credentials given by staff or a reset; a
    password never recorded as set (`changed_at` None) also has to change.
    """
    _require_aware(now, "now")
    if must_change or changed_at is None:
        return True
    _require_aware(changed_at, "changed_at")
    return now - changed_at >= MAX_AGE
