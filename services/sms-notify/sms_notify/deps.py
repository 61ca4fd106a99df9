"""What the use cases need, wired once by the composition root (app.py; worker.py builds on
it) or by tests: the settings, the database, the clock (``deps.now()``, ``deps.tz``) and

    channels   "sms" and "email" -> a ``Channel`` (the SMS one fails over between providers)
    registry   the population registry: who a student's parents are
    payments   the acquirer that takes top-ups
    policy     delivery retries (from the settings)
    limits     per-phone limits against SMS pumping (from the settings)
    budgets    per-account and platform SMS budgets, allowed countries (from the settings)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edu_common import deps
from edu_common.registry import PopulationRegistry
from sms_notify.adapters.channels import Channel
from sms_notify.adapters.payments import PaymentAdapter
from sms_notify.domain.budgets import Budgets
from sms_notify.domain.limits import Limits
from sms_notify.domain.retries import Policy
from sms_notify.settings import Settings


@dataclass(kw_only=True)
class Deps(deps.Deps):
    settings: Settings
    channels: Mapping[str, Channel]
    registry: PopulationRegistry
    payments: PaymentAdapter
    policy: Policy
    limits: Limits
    budgets: Budgets
