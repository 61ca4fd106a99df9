"""The kindergarten queue's rules that need no I/O (docs/domain.md, seed 003)."""

from __future__ import annotations

import datetime as dt

from kindergarten.domain.cycle import EXTRAORDINARY, GENERAL, PRIORITY

CATEGORIES = (GENERAL, PRIORITY, EXTRAORDINARY)
LANGUAGES = ("kk", "ru")


def age_in_years(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_in_months(birth: dt.date, on: dt.date) -> int:
    months = (on.year - birth.year) * 12 + on.month - birth.month
    return months - (on.day < birth.day)


def may_apply(birth: dt.date, today: dt.date, max_age_years: int) -> bool:
    """Only a child under ``max_age_years`` (and already born) may be put in the queue."""
    return birth <= today and age_in_years(birth, today) < max_age_years


def old_enough_for_offer(birth: dt.date, today: dt.date, min_months: int) -> bool:
    return age_in_months(birth, today) >= min_months


def same_batch(a: dt.date, b: dt.date, window_days: int) -> bool:
    """Children of one family born within a month of each other form one batch."""
    return abs((a - b).days) <= window_days


def ages_out(birth: dt.date, school_start: dt.date, max_age_years: int) -> bool:
    """At the yearly re-sort: a child who is ``max_age_years`` by 1 September leaves the queue
    (it goes to school preparation, not kindergarten)."""
    return age_in_years(birth, school_start) >= max_age_years
