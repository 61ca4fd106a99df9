"""Brute-force protection: growing delays, then a temporary lock, per key.

A key is whatever is being guessed against or from: an account, a client
address, a phone number, an e-mail. The caller keeps one FailureRecord per key
and rule, asks decide() before an attempt and records the outcome after it.
Failures are counted in a window that starts at the first failure; once the
window or a lock has passed, the key starts over from no failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

# Keeps 2**n within timedelta's range; any real max_delay is reached long before.
_MAX_EXPONENT = 30


@dataclass(frozen=True)
class ThrottleRule:
    free_failures: int  # failures that cost no delay
    max_delay: timedelta  # cap on the growing delay
    lock_after: int  # failures within the window that lock the key
    lock_for: timedelta
    window: timedelta

    def __post_init__(self) -> None:
        if self.free_failures < 0:
            raise ValueError("free_failures must not be negative")
        if self.lock_after < 1:
            raise ValueError("lock_after must be at least 1")
        for name in ("max_delay", "lock_for", "window"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True)
class FailureRecord:
    failures: int
    first_failure_at: datetime | None
    last_failure_at: datetime | None
    locked_until: datetime | None

    @classmethod
    def empty(cls) -> FailureRecord:
        return cls(failures=0, first_failure_at=None, last_failure_at=None, locked_until=None)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until an attempt is allowed; 0 when allowed
    locked: bool


class FailureOutcome(NamedTuple):
    record: FailureRecord
    just_locked: bool  # this failure caused the lock: emit "account locked" once


# Password guesses against one account: 3 free, then 2, 4, 8, ... 60 s, lock at 10.
PASSWORD_PER_ACCOUNT = ThrottleRule(
    free_failures=3,
    max_delay=timedelta(seconds=60),
    lock_after=10,
    lock_for=timedelta(minutes=15),
    window=timedelta(minutes=15),
)
# Password guesses from one client address, across accounts: only a high ceiling against
# floods, because a college computer room or a carrier-grade NAT sends many people through one
# address. Guessing is stopped per account (above). The default of LOGIN_FAILURES_PER_ADDRESS.
PASSWORD_PER_CLIENT = ThrottleRule(
    free_failures=100,
    max_delay=timedelta(seconds=60),
    lock_after=200,
    lock_for=timedelta(minutes=15),
    window=timedelta(minutes=15),
)
# Wrong SMS codes for one phone or IIN, across challenges. Each challenge allows
# only MAX_ATTEMPTS tries already; this bounds starting challenge after challenge.
CODE_PER_TARGET = ThrottleRule(
    free_failures=3,
    max_delay=timedelta(seconds=60),
    lock_after=10,
    lock_for=timedelta(hours=1),
    window=timedelta(hours=1),
)
# Wrong codes from one client address across every challenge and person: a high ceiling, as
# above (CODE_FAILURES_PER_ADDRESS). Guessing is stopped per challenge (codes.MAX_ATTEMPTS), per
# phone, e-mail and registration (CODE_GUESSES_PER_TARGET).
CODE_PER_CLIENT = ThrottleRule(
    free_failures=100,
    max_delay=timedelta(seconds=60),
    lock_after=200,
    lock_for=timedelta(minutes=30),
    window=timedelta(minutes=30),
)
# Wrong codes against one phone, e-mail or registration across its challenges: one challenge's
# five tries are free, then growing delays, and a lock (CODE_GUESSES_PER_TARGET).
CODE_GUESSES_PER_TARGET = ThrottleRule(
    free_failures=5,
    max_delay=timedelta(seconds=60),
    lock_after=15,
    lock_for=timedelta(hours=1),
    window=timedelta(hours=1),
)
# The same for codes sent by e-mail, kept apart so each can be tuned on its own.
EMAIL_CODE_PER_TARGET = ThrottleRule(
    free_failures=3,
    max_delay=timedelta(seconds=60),
    lock_after=10,
    lock_for=timedelta(hours=1),
    window=timedelta(hours=1),
)


def quota(count: int, window: timedelta) -> ThrottleRule:
    """At most `count` events in `window` (codes sent, say): no delays, and the count-th event
    closes the key until `window` after it."""
    return ThrottleRule(
        free_failures=count,
        max_delay=timedelta(seconds=60),
        lock_after=count,
        lock_for=window,
        window=window,
    )


def parse_rule(text: str) -> ThrottleRule:
    """A rule from a setting: ``FREE/LOCK_AFTER/MINUTES`` (growing delays after FREE failures,
    a lock at LOCK_AFTER within MINUTES, for MINUTES), or ``COUNT/MINUTES`` for a quota."""
    parts = [p.strip() for p in text.split("/")]
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ValueError("give FREE/LOCK_AFTER/MINUTES or COUNT/MINUTES, whole numbers") from None
    if len(numbers) == 2:
        count, minutes = numbers
        if count < 1 or minutes < 1:
            raise ValueError("COUNT and MINUTES must be at least 1")
        return quota(count, timedelta(minutes=minutes))
    if len(numbers) == 3:
        free, lock_after, minutes = numbers
        if minutes < 1:
            raise ValueError("MINUTES must be at least 1")
        window = timedelta(minutes=minutes)
        return ThrottleRule(
            free_failures=free,
            max_delay=timedelta(seconds=60),
            lock_after=lock_after,
            lock_for=window,
            window=window,
        )
    raise ValueError("give FREE/LOCK_AFTER/MINUTES or COUNT/MINUTES")


def describe_rule(rule: ThrottleRule) -> str:
    """The setting's text for a rule (the inverse of parse_rule for the rules it makes)."""
    minutes = int(rule.window.total_seconds() // 60)
    if rule.free_failures == rule.lock_after:
        return f"{rule.lock_after}/{minutes}"
    return f"{rule.free_failures}/{rule.lock_after}/{minutes}"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _ceil_seconds(delta: timedelta) -> int:
    return max(0, math.ceil(delta.total_seconds()))


def delay_for(failures: int, rule: ThrottleRule) -> timedelta:
    """Wait required after the last failure: none for the free ones, then
    2**(failures - free_failures) seconds, capped at max_delay."""
    extra = failures - rule.free_failures
    if extra <= 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(extra, _MAX_EXPONENT)), rule.max_delay)


def _current(record: FailureRecord, rule: ThrottleRule, now: datetime) -> FailureRecord:
    """The record as it stands at `now`: empty once its lock or its window has passed."""
    if record.locked_until is not None:
        return record if now < record.locked_until else FailureRecord.empty()
    if record.first_failure_at is not None and now - record.first_failure_at >= rule.window:
        return FailureRecord.empty()
    return record


def decide(record: FailureRecord, rule: ThrottleRule, now: datetime) -> Decision:
    """May the key make an attempt now?"""
    _require_aware(now, "now")
    current = _current(record, rule, now)
    if current.locked_until is not None:
        return Decision(
            allowed=False, retry_after=_ceil_seconds(current.locked_until - now), locked=True
        )
    if current.last_failure_at is not None:
        wait = current.last_failure_at + delay_for(current.failures, rule) - now
        if wait > timedelta(0):
            return Decision(allowed=False, retry_after=_ceil_seconds(wait), locked=False)
    return Decision(allowed=True, retry_after=0, locked=False)


def record_failure(record: FailureRecord, rule: ThrottleRule, now: datetime) -> FailureOutcome:
    """Count a failed attempt; the lock_after-th failure in the window locks the key."""
    _require_aware(now, "now")
    current = _current(record, rule, now)
    if current.locked_until is not None:
        # A failure that raced past decide() while locked: counted, lock not extended.
        return FailureOutcome(
            replace(current, failures=current.failures + 1, last_failure_at=now), False
        )
    failures = current.failures + 1
    locked_until = now + rule.lock_for if failures >= rule.lock_after else None
    updated = FailureRecord(
        failures=failures,
        first_failure_at=current.first_failure_at or now,
        last_failure_at=now,
        locked_until=locked_until,
    )
    return FailureOutcome(updated, locked_until is not None)


def record_success() -> FailureRecord:
    """A success clears the key.

    Reset only the key that proved something (the account, the phone), not the
    client address: one valid account must not wipe a client's failures elsewhere.
    """
    return FailureRecord.empty()
