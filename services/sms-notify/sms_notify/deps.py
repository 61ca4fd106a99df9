"""What the use cases need, wired once by the composition root (app.py, worker.py) or tests.

Fields: ``settings``, ``db``, ``channels`` (``"sms"`` and
``"email"`` -> a ``Channel``), ``clock`` (``deps.now()`` answers an aware UTC datetime) and
``policy`` (delivery retries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pymongo.database import Database

from sms_notify.adapters.channels import Channel
from sms_notify.settings import Settings
from sms_notify.usecases.delivery import DEFAULT_POLICY, Policy


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Deps:
    settings: Settings
    db: Database
    channels: Mapping[str, Channel]
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    policy: Policy = DEFAULT_POLICY

    def now(self) -> dt.datetime:
        return self.clock()
