"""What the use cases need, wired once by the composition root (app.py, worker.py) or tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.database import Database

from applicant.adapters.files import FileStore
from applicant.domain.calendar import WorkingCalendar
from applicant.settings import Settings
from edu_common.registry import PopulationRegistry


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Deps:
    settings: Settings
    db: Database
    registry: PopulationRegistry
    files: FileStore
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def calendar(self) -> WorkingCalendar:
        found = self.__dict__.get("_calendar")
        if found is None:
            found = WorkingCalendar(self.settings.holidays_country, self.settings.timezone)
            self.__dict__["_calendar"] = found
        return found

    def today(self):
        return self.calendar.local_date(self.now())
