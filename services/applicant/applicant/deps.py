"""What the use cases need, wired once by the composition root (app.py; worker.py builds on it)
or by tests: the shared base (settings, database, clock, time zone), the population registry,
the document store and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from applicant.settings import Settings
from edu_common import deps
from edu_common.files import FileStore
from edu_common.kz.calendar import WorkingCalendar
from edu_common.registry import PopulationRegistry


@dataclass(kw_only=True)
class Deps(deps.Deps):
    settings: Settings
    registry: PopulationRegistry
    files: FileStore
    calendar: WorkingCalendar = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.calendar is None:
            self.calendar = WorkingCalendar(self.settings.holidays_country, self.settings.timezone)

    def today(self) -> dt.date:
        return self.calendar.local_date(self.now())
