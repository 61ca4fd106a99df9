"""The kindergarten's door code: a rotating code the head's screen shows as a QR, which an
escort's phone sends with a mark (domain/attendance.py); and the limits on wrong codes, per
account and per child (domain/door_guard.py), audited."""

from __future__ import annotations

import datetime as dt

from pymongo.errors import DuplicateKeyError

from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.domain import attendance as att
from kindergarten.domain import door_guard as guard
from kindergarten.usecases import audit, common

_ATTEMPTS_RETRIES = 5


def door_code(deps: Deps, principal: Principal, kindergarten_id: str) -> dict:
    """The code the head's screen shows at the door, as a QR; only the kindergarten's staff."""
    if not common.is_staff_of(principal, kindergarten_id):
        raise common.forbidden("Only this kindergarten's staff see its door code.")
    if deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id}, {"_id": 1}) is None:
        raise Problem(404, "kindergarten_not_found", "No such kindergarten.")
    s = deps.settings
    code = att.current_code(
        s.door_code_secret.encode(), kindergarten_id, deps.now(), s.door_code_seconds
    )
    return {
        "kindergarten_id": kindergarten_id,
        "code": code.code,
        "payload": code.payload,
        "valid_from": code.valid_from,
        "valid_until": code.valid_until,
        "refresh_seconds": s.door_code_seconds,
    }


# --- wrong codes --------------------------------------------------------------------------
def policy(deps: Deps) -> guard.Policy:
    s = deps.settings
    return guard.Policy(
        free=s.door_code_free_failures,
        delay=s.door_code_delay,
        max_delay=s.door_code_max_delay,
        lock_after=s.door_code_lock_after,
        lock=s.door_code_lock,
        window=s.door_code_failure_window,
    )


def attempt_keys(account_id: str, child_iin: str) -> tuple[str, str]:
    return f"account:{account_id}", f"child:{child_iin}"


def _counter(doc: dict | None) -> guard.Counter:
    if not doc:
        return guard.Counter()
    return guard.Counter(
        failures=int(doc.get("failures") or 0),
        last_failure_at=doc.get("last_failure_at"),
        wait_until=doc.get("wait_until"),
        locked_until=doc.get("locked_until"),
    )


def _refused(refusal: guard.Refusal, now: dt.datetime) -> Problem:
    headers = {"Retry-After": str(refusal.retry_after(now))}
    if refusal.code == guard.LOCKED:
        return Problem(
            423,
            guard.LOCKED,
            "Too many wrong door codes: marking with a code is locked for a while. Ask the "
            "group's teacher to mark the child.",
            headers=headers,
        )
    return Problem(
        429,
        guard.DELAYED,
        "Too many wrong door codes: wait a moment, then scan the code on the screen again.",
        headers=headers,
    )


def check_attempts(deps: Deps, keys: tuple[str, ...], now: dt.datetime) -> None:
    """423 while any key is locked, 429 while any must wait (Retry-After: the longest)."""
    docs = {d["_id"]: d for d in deps.db[store.DOOR_ATTEMPTS].find({"_id": {"$in": list(keys)}})}
    found = [guard.refusal(_counter(docs.get(k)), now, policy(deps)) for k in keys]
    found = [r for r in found if r is not None]
    if not found:
        return
    locked = [r for r in found if r.code == guard.LOCKED]
    worst = max(locked or found, key=lambda r: r.until)
    raise _refused(worst, now)


def _count_failure(deps: Deps, key: str, now: dt.datetime) -> tuple[guard.Counter, guard.Counter]:
    """One more wrong code against ``key``: (before, after). Each write is conditional on the
    version read, so two wrong codes at once both count."""
    col = deps.db[store.DOOR_ATTEMPTS]
    rules = policy(deps)
    for _ in range(_ATTEMPTS_RETRIES):
        doc = col.find_one({"_id": key})
        before = _counter(doc)
        after = guard.after_failure(before, now, rules)
        fields = {
            "failures": after.failures,
            "last_failure_at": after.last_failure_at,
            "wait_until": after.wait_until,
            "locked_until": after.locked_until,
            # Forgotten (TTL index) once neither the window nor a lock can matter any more.
            "expires_at": max(now + rules.window, after.locked_until or now),
        }
        if doc is None:
            try:
                col.insert_one({"_id": key, **fields, "version": 1})
            except DuplicateKeyError:
                continue
            return before, after
        version = doc.get("version", 0)
        done = col.update_one(
            {"_id": key, "version": version}, {"$set": {**fields, "version": version + 1}}
        )
        if done.modified_count:
            return before, after
    # Still contended after the retries: count it without the growth (never lose a failure).
    col.update_one(
        {"_id": key},
        {"$inc": {"failures": 1, "version": 1}, "$set": {"last_failure_at": now}},
    )
    return before, after


def record_failure(
    deps: Deps,
    principal: Principal,
    kindergarten_id: str,
    child_iin: str,
    now: dt.datetime,
    client: str | None,
) -> dict[str, str]:
    """A wrong door code: counted against the account and the child, audited; a lock it causes
    is audited once. The headers for the 422 (Retry-After when the next try must wait)."""
    keys = attempt_keys(principal.account_id, child_iin)
    afters = []
    for key in keys:
        before, after = _count_failure(deps, key, now)
        afters.append(after)
        if guard.locks_now(before, after, now):
            audit.record(
                deps,
                audit.DOOR_CODE_LOCKED,
                at=now,
                account_id=principal.account_id,
                kindergarten_id=kindergarten_id,
                child_iin=child_iin,
                client=client,
                key=key.partition(":")[0],
                failures=after.failures,
                locked_until=after.locked_until,
            )
    audit.record(
        deps,
        audit.DOOR_CODE_REJECTED,
        at=now,
        account_id=principal.account_id,
        kindergarten_id=kindergarten_id,
        child_iin=child_iin,
        client=client,
        failures=max(a.failures for a in afters),
    )
    waits = [t for a in afters for t in (a.wait_until, a.locked_until) if t is not None and t > now]
    if not waits:
        return {}
    return {"Retry-After": str(guard.Refusal(guard.DELAYED, max(waits)).retry_after(now))}


def record_success(deps: Deps, principal: Principal, child_iin: str) -> None:
    """A right code starts the count again for the account and the child (a running lock is
    never lifted: a locked key is not even checked)."""
    deps.db[store.DOOR_ATTEMPTS].delete_many(
        {"_id": {"$in": list(attempt_keys(principal.account_id, child_iin))}}
    )
