"""What the use cases need, wired once by the composition root (app.py) or by tests."""

from __future__ import annotations

from dataclasses import dataclass

from edu_common import deps
from edu_common.registry import PopulationRegistry
from identity.adapters.eds import EdsVerifier, ReloadingEdsVerifier
from identity.domain.passwords import PasswordHasher, PasswordPolicy
from identity.settings import Settings
from identity.tokens import KeyRing


@dataclass(kw_only=True)
class Deps(deps.Deps):
    settings: Settings
    keys: KeyRing
    hasher: PasswordHasher
    policy: PasswordPolicy
    registry: PopulationRegistry
    eds: EdsVerifier | ReloadingEdsVerifier | None
