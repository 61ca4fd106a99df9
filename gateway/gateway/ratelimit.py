"""Token buckets keyed by client address or account, in this process's memory.

Each gateway process keeps its own buckets (no shared store on the request path): with N
processes behind a balancer a client gets up to N times the rate in the worst case, so the
configured rates are per process. Idle buckets are full again anyway, so they are dropped.
"""

from __future__ import annotations

import math
import time

from gateway.config import Rate


class TokenBuckets:
    def __init__(self, rate: Rate, *, max_keys: int = 100_000, clock=time.monotonic):
        self.rate = rate.rate
        self.burst = rate.burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens, updated_at]

    def take(self, key: str, cost: float = 1.0) -> float:
        """0.0 when allowed (a token is spent), otherwise the seconds until one is there."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = [self.burst, now]
        else:
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= cost:
            bucket[0] -= cost
            return 0.0
        return (cost - bucket[0]) / self.rate

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        stale = [k for k, (_, at) in self._buckets.items() if now - at >= full_after]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full: forget the oldest half
            oldest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
            for key, _ in oldest[: len(oldest) // 2]:
                del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
