"""A circuit breaker per upstream: after a run of failures it answers 503 at once for a while,
instead of piling requests on a service that is down; then one trial request decides."""

from __future__ import annotations

import math
import time

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_VALUE = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}  # the metric's encoding


class CircuitBreaker:
    def __init__(self, failures: int, open_seconds: float, clock=time.monotonic):
        self.threshold = max(1, failures)
        self.open_seconds = open_seconds
        self.clock = clock
        self.state = CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self._trial_in_flight = False
        self.on_change = None  # called with the new state (metrics)

    def retry_after(self) -> int:
        """Seconds until a trial request will be let through (for Retry-After)."""
        left = self.opened_at + self.open_seconds - self.clock()
        return max(1, math.ceil(left))

    def allow(self) -> bool:
        """May a request go to the upstream now? In half-open, only one at a time (the trial)."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self.clock() - self.opened_at < self.open_seconds:
                return False
            self._set(HALF_OPEN)
        if self._trial_in_flight:
            return False
        self._trial_in_flight = True
        return True

    def success(self) -> None:
        self.failures = 0
        self._trial_in_flight = False
        if self.state != CLOSED:
            self._set(CLOSED)

    def failure(self) -> None:
        self._trial_in_flight = False
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.threshold:
            self.opened_at = self.clock()
            self._set(OPEN)

    def release(self) -> None:
        """The request ended without a verdict (e.g. the client went away)."""
        self._trial_in_flight = False

    def _set(self, state: str) -> None:
        self.state = state
        if self.on_change is not None:
            self.on_change(state)
