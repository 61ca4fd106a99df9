"""The base of every service's ``Deps``: what its use cases need, wired once by the composition
root (app.py; worker.py builds on it) or by tests.

    @dataclass(kw_only=True)
    class Deps(edu_common.deps.Deps):
        settings: Settings
        registry: PopulationRegistry
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from pymongo.database import Database

from edu_common.clock import Now, utcnow
from edu_common.settings import ServiceSettings


@dataclass(kw_only=True)
class Deps:
    settings: ServiceSettings
    db: Database
    clock: Now = utcnow

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return self.settings.tz
