"""What the use cases need, wired once by the composition root (app.py; worker.py builds on it)
or by tests: the shared base (settings, database, clock, time zone) and the population
registry."""

from __future__ import annotations

from dataclasses import dataclass

from edu_common import deps
from edu_common.registry import PopulationRegistry
from kindergarten.settings import Settings


@dataclass(kw_only=True)
class Deps(deps.Deps):
    settings: Settings
    registry: PopulationRegistry
