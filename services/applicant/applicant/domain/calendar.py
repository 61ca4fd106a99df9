"""Working days and deadlines in Kazakhstan's time. Pure, no I/O.

Public holidays come from the ``holidays`` library (Kazakhstan, with its observed and
transferred days). Local time is ``Asia/Almaty``: UTC+5 everywhere since 1 March 2024.
(The same calendar as kindergarten's: a candidate for the shared library.)
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays


class WorkingCalendar:
    def __init__(self, country: str = "KZ", timezone: str = "Asia/Almaty") -> None:
        self.country = country
        self.zone = ZoneInfo(timezone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The last moment of ``day`` in local time, as an aware UTC datetime."""
        start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone)
        return (start_next - dt.timedelta(microseconds=1000)).astimezone(dt.UTC)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``day`` itself does not count)."""
        found = 0
        while found < n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                found += 1
        return day

    def deadline(self, start: dt.datetime, working_days: int) -> dt.datetime:
        """End of the ``working_days``-th working day after the local day of ``start``."""
        return self.end_of_day(self.add_working_days(self.local_date(start), working_days))
