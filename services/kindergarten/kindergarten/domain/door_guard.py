"""Wrong door codes: how many an account (or a child) may give, and what follows. Pure, no I/O.

A code is 8 digits valid for two 30-second windows, so guessing is hopeless anyway; these
limits make it also slow and visible. Each wrong code counts against the account that sent it
and against the child it was for (several escorts' accounts together cannot guess faster).
The first ``free`` wrong codes cost nothing (a blurred scan, a stale screen); each further one
makes the next attempt wait, the wait doubling up to a cap; at ``lock_after`` wrong codes door
codes are refused outright for ``lock``. After a quiet ``window`` since the last wrong code the
count starts again, and a right code starts it again at once for the account and the child.
While waiting or locked no code is even checked: a wait that still checked would slow nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DELAYED = "door_code_delayed"
LOCKED = "door_code_locked"


@dataclass(frozen=True)
class Policy:
    free: int  # wrong codes without any wait
    delay: dt.timedelta  # the first wait; doubles with each further wrong code
    max_delay: dt.timedelta
    lock_after: int  # wrong codes that lock
    lock: dt.timedelta
    window: dt.timedelta  # quiet time after which the count starts again


@dataclass(frozen=True)
class Counter:
    """One key's wrong codes: ``failures`` since the count last started, the last one's time,
    and until when the next attempt waits or is locked."""

    failures: int = 0
    last_failure_at: dt.datetime | None = None
    wait_until: dt.datetime | None = None
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class Refusal:
    code: str  # DELAYED or LOCKED
    until: dt.datetime

    def retry_after(self, now: dt.datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


def current(counter: Counter, now: dt.datetime, policy: Policy) -> Counter:
    """The counter as it stands now: a quiet window since the last failure starts it again
    (a lock still running is kept)."""
    last = counter.last_failure_at
    if last is not None and now - last >= policy.window:
        lock = counter.locked_until
        return Counter(locked_until=lock if lock is not None and lock > now else None)
    return counter


def refusal(counter: Counter, now: dt.datetime, policy: Policy) -> Refusal | None:
    """Whether an attempt now is refused before its code is looked at: locked, or waiting."""
    c = current(counter, now, policy)
    if c.locked_until is not None and c.locked_until > now:
        return Refusal(LOCKED, c.locked_until)
    if c.wait_until is not None and c.wait_until > now:
        return Refusal(DELAYED, c.wait_until)
    return None


def wait_after(failures: int, policy: Policy) -> dt.timedelta:
    """The wait after the ``failures``-th wrong code: none for the free ones, then the delay
    doubling with each one more, never above the cap."""
    extra = failures - policy.free
    if extra <= 0:
        return dt.timedelta(0)
    return min(policy.max_delay, policy.delay * (2 ** min(extra - 1, 30)))


def after_failure(counter: Counter, now: dt.datetime, policy: Policy) -> Counter:
    """The counter after one more wrong code at ``now``; at the threshold it locks."""
    c = current(counter, now, policy)
    failures = c.failures + 1
    locked_until = c.locked_until
    if failures >= policy.lock_after:
        locked_until = now + policy.lock
    wait = wait_after(failures, policy)
    return Counter(
        failures=failures,
        last_failure_at=now,
        wait_until=now + wait if wait else None,
        locked_until=locked_until,
    )


def locks_now(before: Counter, after: Counter, now: dt.datetime) -> bool:
    """This failure is the one that locked (for the audit: a lock is recorded once)."""
    was_locked = before.locked_until is not None and before.locked_until > now
    return not was_locked and after.locked_until is not None and after.locked_until > now
