"""Brute-force protection backed by the database: the pure rules of domain.throttle, stored
with compare-and-set so parallel guesses cannot share one allowance."""

from __future__ import annotations

import datetime as dt

from pymongo.errors import DuplicateKeyError

from edu_common.web.problems import Problem
from identity import store
from identity.deps import Deps
from identity.domain import throttle


def _load(deps: Deps, key: str) -> tuple[throttle.FailureRecord, int]:
    doc = deps.db[store.THROTTLE].find_one({"_id": key})
    if not doc:
        return throttle.FailureRecord.empty(), 0
    return (
        throttle.FailureRecord(
            failures=doc["failures"],
            first_failure_at=doc.get("first_failure_at"),
            last_failure_at=doc.get("last_failure_at"),
            locked_until=doc.get("locked_until"),
        ),
        doc.get("v", 0),
    )


def decision(deps: Deps, key: str, rule: throttle.ThrottleRule) -> throttle.Decision:
    """Whether the key may make an attempt now, without raising."""
    record, _ = _load(deps, key)
    return throttle.decide(record, rule, deps.now())


def too_many(retry_after: int, code: str = "too_many_requests", detail: str | None = None):
    wait = max(1, retry_after)
    return Problem(
        429,
        code,
        detail or "Too many attempts. Try again later.",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


def check(deps: Deps, key: str, rule: throttle.ThrottleRule) -> None:
    """Raise 429 with Retry-After when the key must wait or is locked."""
    found = decision(deps, key, rule)
    if not found.allowed:
        raise too_many(found.retry_after)


def failed(deps: Deps, key: str, rule: throttle.ThrottleRule) -> bool:
    """Count a failure; answer True when this failure has just locked the key."""
    for _ in range(5):
        record, version = _load(deps, key)
        outcome = throttle.record_failure(record, rule, deps.now())
        new = outcome.record
        horizon = max(
            filter(None, [new.locked_until, (new.first_failure_at or deps.now()) + rule.window])
        )
        try:
            result = deps.db[store.THROTTLE].update_one(
                {"_id": key, "v": version} if version else {"_id": key, "v": {"$exists": False}},
                {
                    "$set": {
                        "failures": new.failures,
                        "first_failure_at": new.first_failure_at,
                        "last_failure_at": new.last_failure_at,
                        "locked_until": new.locked_until,
                        "expires_at": horizon + dt.timedelta(minutes=1),
                        "v": version + 1,
                    }
                },
                upsert=not version,
            )
        except DuplicateKeyError:
            continue  # another request wrote first: read again
        if result.modified_count or result.upserted_id is not None:
            return outcome.just_locked
    return False


def succeeded(deps: Deps, key: str) -> None:
    deps.db[store.THROTTLE].delete_one({"_id": key})
