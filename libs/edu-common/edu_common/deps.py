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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

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


T = TypeVar("T")


@dataclass(frozen=True)
class Later:
    """A part of ``assemble`` made only where no override replaces it (a registry client, say,
    that a test's fake stands in for)."""

    make: Callable[[], Any]


def assemble(cls: Callable[..., T], overrides: dict[str, Any], **parts: Any) -> T:
    """``cls(**parts)``, each part replaced by the override of the same name (the composition
    root's ``build_deps(settings, **overrides)``: tests replace the clock, channels, db...)."""
    merged = {**parts, **overrides}
    return cls(**{k: v.make() if isinstance(v, Later) else v for k, v in merged.items()})
