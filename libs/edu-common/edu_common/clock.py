"""The one clock: use cases ask ``deps.now()``, so tests can move time (testing.Clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Now = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """An aware UTC datetime: stored times are UTC, local time only at the edges."""
    return dt.datetime.now(dt.UTC)
