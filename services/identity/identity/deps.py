"""What the use cases need, wired once by the composition root (app.py) or by tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from pymongo.database import Database

from edu_common.registry import PopulationRegistry
from identity.adapters.eds import EdsVerifier, ReloadingEdsVerifier
from identity.domain.passwords import PasswordHasher, PasswordPolicy
from identity.settings import Settings
from identity.tokens import KeyRing


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Deps:
    settings: Settings
    db: Database
    keys: KeyRing
    hasher: PasswordHasher
    policy: PasswordPolicy
    registry: PopulationRegistry
    eds: EdsVerifier | ReloadingEdsVerifier | None
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()
