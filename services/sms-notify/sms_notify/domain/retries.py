"""When a message that did not go is tried again, and for how long its delivery is asked about.
Pure: delivery counts the attempts, this says how long to wait."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 8
    backoff_base: dt.timedelta = dt.timedelta(seconds=5)
    backoff_max: dt.timedelta = dt.timedelta(minutes=10)
    # Longer than the slowest send (SMTP and SMSC time out well before it).
    lease: dt.timedelta = dt.timedelta(seconds=60)
    # Delivery reports: first asked this long after sending, then less and less often, and
    # given up after status_window (the message stays "sent").
    first_status_check: dt.timedelta = dt.timedelta(seconds=30)
    status_window: dt.timedelta = dt.timedelta(days=2)

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait before the next try after `attempts` tries: 5s, 10s, 20s... up to the max."""
        return min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)


DEFAULT_POLICY = Policy()
