"""The IIN (ИИН / ЖСН), Kazakhstan's individual identification number.

Twelve digits ``YYMMDD C SSSS K``: date of birth, a digit giving century and sex, a serial
number and a check digit. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_RETRY = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# Seventh digit -> (century, sex).
_CENTURY_SEX = {
    "1": (1800, "male"),
    "2": (1800, "female"),
    "3": (1900, "male"),
    "4": (1900, "female"),
    "5": (2000, "male"),
    "6": (2000, "female"),
}

SEXES = ("male", "female")


class IINError(ValueError):
    """An IIN that cannot exist; ``code`` is a stable machine code for API errors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class IIN:
    value: str
    birth_date: dt.date
    sex: str

    def __repr__(self) -> str:
        # Full IINs must not leak into logs through a stray repr() or str(); use .value.
        return f"IIN({mask_iin(self.value)!r})"


def _is_digits(value: object, length: int) -> bool:
    # str.isdigit() alone would accept other scripts' digits such as "١".
    return isinstance(value, str) and len(value) == length and value.isascii() and value.isdigit()


def check_digit(first11: str) -> int | None:
    """The check digit for the first 11 digits, or None if such an IIN is never issued."""
    if not _is_digits(first11, 11):
        raise IINError("iin_format", "The first part of an IIN must be exactly 11 digits.")
    digits = [int(c) for c in first11]
    for weights in (_WEIGHTS, _WEIGHTS_RETRY):
        digit = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if digit != 10:
            return digit
    return None


def parse_iin(value: str) -> IIN:
    """Validate an IIN and read the date of birth and sex from it."""
    if not _is_digits(value, 12):
        raise IINError("iin_format", "An IIN must be exactly 12 digits.")
    century_sex = _CENTURY_SEX.get(value[6])
    if century_sex is None:
        raise IINError("iin_century", f"The 7th digit of an IIN must be 1 to 6, not {value[6]}.")
    century, sex = century_sex
    try:
        birth_date = dt.date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise IINError(
            "iin_date", "The first 6 digits of an IIN must be a real date of birth (YYMMDD)."
        ) from None
    if check_digit(value[:11]) != int(value[11]):
        raise IINError("iin_checksum", "The IIN check digit does not match: check for a typo.")
    return IIN(value=value, birth_date=birth_date, sex=sex)


def is_valid_iin(value: object) -> bool:
    try:
        parse_iin(value)  # type: ignore[arg-type]
    except IINError:
        return False
    return True


def mask_iin(value: str) -> str:
    """The IIN as it may appear in logs and events: only the last 4 digits."""
    value = str(value)
    visible = value[-4:] if len(value) > 4 else ""
    return "*" * (len(value) - len(visible)) + visible


def make_iin(birth_date: dt.date, sex: str, serial: int) -> str:
    """A valid IIN for this date and sex, using the first serial from ``serial`` up that has
    a check digit."""
    if sex not in SEXES:
        raise ValueError(f"sex must be 'male' or 'female', not {sex!r}")
    if not 0 <= serial <= 9999:
        raise ValueError(f"serial must be 0 to 9999, not {serial}")
    century = birth_date.year // 100 * 100
    codes = [c for c, cs in _CENTURY_SEX.items() if cs == (century, sex)]
    if not codes:
        raise IINError("iin_century", "IINs exist only for people born in 1800-2099.")
    head = f"{birth_date:%y%m%d}{codes[0]}"
    for candidate in range(serial, 10000):
        first11 = f"{head}{candidate:04d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"
    raise ValueError(f"no issuable IIN with a serial from {serial} to 9999")
