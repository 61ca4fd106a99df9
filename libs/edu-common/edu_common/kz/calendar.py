"""Business (working) days and deadlines in Kazakhstan's time. Pure, no I/O.

Public holidays come from the ``holidays`` library (Kazakhstan, with its observed/transferred
days), never a hand-written list. Local time is the service's one time zone (setting TIMEZONE,
``Asia/Almaty``): since 1 March 2024 the whole country is UTC+5, and the tz database (tzdata
2024a and later) knows it; an older tz database would give UTC+6 and put every deadline an hour
late.

Kindergarten speaks of business days, applicant of working days: the same days, so both names
are offered (``add_working_days`` is ``add_business_days``).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays


class BusinessCalendar:
    def __init__(self, country: str = "KZ", zone: dt.tzinfo | str = "Asia/Almaty") -> None:
        self.country = country
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)  # years are filled in on first lookup

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def is_holiday(self, day: dt.date) -> bool:
        return day in self._holidays

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(day)

    is_working_day = is_business_day

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The last moment of ``day`` in local time, as an aware UTC datetime."""
        start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
        return (start_next - dt.timedelta(microseconds=1000)).astimezone(dt.UTC)

    def add_business_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th business day after ``day`` (``day`` itself does not count)."""
        found = 0
        while found < n:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                found += 1
        return day

    add_working_days = add_business_days

    def deadline(self, start: dt.datetime, business_days: int) -> dt.datetime:
        """End of the ``business_days``-th business day after the local day of ``start``."""
        return self.end_of_day(self.add_business_days(self.local_date(start), business_days))

    def in_period(self, moment: dt.datetime, start_mmdd: str, end_mmdd: str) -> bool:
        """Whether the local date of ``moment`` lies in the yearly period MM-DD..MM-DD."""
        day = self.local_date(moment)
        key = f"{day.month:02d}-{day.day:02d}"
        if start_mmdd <= end_mmdd:
            return start_mmdd <= key <= end_mmdd
        return key >= start_mmdd or key <= end_mmdd


WorkingCalendar = BusinessCalendar

__all__ = ["BusinessCalendar", "WorkingCalendar"]
