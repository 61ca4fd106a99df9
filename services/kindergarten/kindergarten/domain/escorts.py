"""Who may bring and collect a child (seed 003, "Еріп жүрушілерді қосу"). Pure rules, no I/O.

The use case gathers the facts (how many escorts the child has, how many children the person
escorts, whether the person is kindergarten staff, what the registry says) and asks
``refusal_for`` whether the person may be added; each refusal has its own machine code.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from edu_common.kz.iin import IINError, parse_iin

# Machine codes of the refusals (each answered 422 with its code).
INVALID_IIN = "escort_iin_invalid"
TOO_YOUNG = "escort_too_young"
NOT_IN_REGISTRY = "escort_not_in_registry"
PHONE_MISMATCH = "escort_phone_mismatch"
NAME_MISMATCH = "escort_name_mismatch"
IS_STAFF = "escort_is_kindergarten_staff"
CHILD_LIMIT = "escorts_per_child_limit"
ESCORT_LIMIT = "children_per_escort_limit"
IS_CHILD = "escort_is_the_child"
PARENT_NOT_REMOVABLE = "applying_parent_not_removable"


@dataclass(frozen=True)
class Refusal:
    code: str
    field: str
    detail: str


@dataclass(frozen=True)
class Limits:
    escorts_per_child: int = 5  # the applying parent included
    children_per_escort: int = 5
    min_age: int = 16


@dataclass(frozen=True)
class Candidate:
    """What is known about the person the parent wants to add, and about the child."""

    iin: str
    phone: str
    full_name: str | None  # as given by the parent; None when not given
    child_iin: str
    today: dt.date  # in the kindergarten's time zone
    registry_full_name: str | None  # None: the registry does not know the IIN
    registry_phones: tuple[str, ...]
    is_applying_parent: bool  # the IIN is the applying parent's own
    is_staff: bool  # some account with role kindergarten_staff has this IIN
    child_escort_count: int  # the child's escorts now, the applying parent included
    escorted_children_count: int  # children the person escorts now


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years on ``day``: a person is 16 from the morning of their 16th birthday.

    Someone born on 29 February comes of age on 1 March in a common year."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def normalize_phone(phone: str) -> str:
    """E.164 as the mobile-citizens database keeps it: +7 and ten digits; 8XXXXXXXXXX too."""
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return "+" + digits


def normalize_name(name: str) -> str:
    return " ".join(name.casefold().replace("ё", "е").split())


def refusal_for(c: Candidate, limits: Limits) -> Refusal | None:
    """The first rule the person breaks, or None when they may escort the child."""
    try:
        iin = parse_iin(c.iin)
    except IINError as exc:
        return Refusal(INVALID_IIN, "iin", str(exc))
    if c.iin == c.child_iin:
        return Refusal(IS_CHILD, "iin", "A child cannot be their own escort.")
    if age_on(iin.birth_date, c.today) < limits.min_age:
        return Refusal(TOO_YOUNG, "iin", f"An escort must be at least {limits.min_age}.")
    if c.registry_full_name is None:
        return Refusal(NOT_IN_REGISTRY, "iin", "The population registry does not know this IIN.")
    wanted = normalize_phone(c.phone)
    if wanted not in {normalize_phone(p) for p in c.registry_phones}:
        return Refusal(
            PHONE_MISMATCH,
            "phone",
            "This phone is not linked to the IIN in the mobile-citizens database.",
        )
    if c.full_name is not None and normalize_name(c.full_name) != normalize_name(
        c.registry_full_name
    ):
        return Refusal(
            NAME_MISMATCH, "full_name", "The name differs from the population registry's."
        )
    if c.is_staff and not c.is_applying_parent:
        return Refusal(
            IS_STAFF,
            "iin",
            "Kindergarten staff cannot be escorts, unless they applied for this child.",
        )
    if c.child_escort_count >= limits.escorts_per_child:
        return Refusal(
            CHILD_LIMIT,
            "iin",
            f"A child has at most {limits.escorts_per_child} escorts, the parent included.",
        )
    if c.escorted_children_count >= limits.children_per_escort:
        return Refusal(
            ESCORT_LIMIT,
            "iin",
            f"One person escorts at most {limits.children_per_escort} children.",
        )
    return None


def registry_full_name(surname: str, name: str, patronymic: str | None) -> str:
    return " ".join(part for part in (surname, name, patronymic) if part)
