"""What the use cases need, wired once by the composition root (app.py, worker.py) or by tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.database import Database

from edu_common.registry import PopulationRegistry
from kindergarten.settings import Settings


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Deps:
    settings: Settings
    db: Database
    registry: PopulationRegistry
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()
