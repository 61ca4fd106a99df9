"""The positional structure behind queue numbers (domain/queue.py explains the arithmetic).

Documents, all in ``store.QUEUES``:

- ``<key>``: ``{counter, nets: {block: extra arrivals - departures}, starts: {block: ts of
  the block's first normal arrival}}``
- ``<key>#<block>``: ``{events: [{k: [base, ts, id], d: +1|-1}]}``
- ``<key>#<block>#a``: ``{arrivals: [[base, ts], ...]}`` (only to place late insertions)

Every change is made inside the caller's transaction, next to the application's own change.
"""

from __future__ import annotations

import bisect

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from kindergarten import store
from kindergarten.domain import queue as q


def arrive(db: Database, session: ClientSession, key: str, ts: int) -> int:
    """A registration at the end of the queue: its base."""
    doc = db[store.QUEUES].find_one_and_update(
        {"_id": key},
        {"$inc": {"counter": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    base = doc["counter"]
    block = q.block_of(base)
    if str(block) not in (doc.get("starts") or {}):
        db[store.QUEUES].update_one(
            {"_id": key}, {"$set": {f"starts.{block}": ts}}, session=session
        )
    db[store.QUEUES].update_one(
        {"_id": f"{q.block_id(key, block)}#a"},
        {"$push": {"arrivals": [base, ts]}},
        upsert=True,
        session=session,
    )
    return base


def _event(db: Database, session: ClientSession, key: str, base: int, k: list, d: int) -> None:
    block = q.block_of(base)
    db[store.QUEUES].update_one(
        {"_id": key}, {"$inc": {f"nets.{block}": d}}, upsert=True, session=session
    )
    db[store.QUEUES].update_one(
        {"_id": q.block_id(key, block)},
        {"$push": {"events": {"k": k, "d": d}}},
        upsert=True,
        session=session,
    )


def insert(db: Database, session: ClientSession, key: str, ts: int, app_id: str) -> int:
    """An application entering ``key`` at its original time ``ts``: its base (it is *extra*)."""
    head = db[store.QUEUES].find_one({"_id": key}, session=session) or {}
    starts = sorted((t, int(b)) for b, t in (head.get("starts") or {}).items())
    at = bisect.bisect_right(starts, (ts, float("inf"))) - 1
    base = 0
    if at >= 0:
        block = starts[at][1]
        arrivals = db[store.QUEUES].find_one(
            {"_id": f"{q.block_id(key, block)}#a"}, session=session
        ) or {"arrivals": []}
        before = [b for b, t in arrivals["arrivals"] if t <= ts]
        base = max(before) if before else 0
    _event(db, session, key, base, [base, ts, app_id], +1)
    return base


def depart(db: Database, session: ClientSession, app: dict) -> None:
    """The application leaves its queue (closed, or moved to another category's queue)."""
    _event(db, session, app["queue_key"], app["base"], [app["base"], app["ts"], app["_id"]], -1)


def number(db: Database, app: dict, session: ClientSession | None = None) -> int | None:
    """The application's current queue number: two reads by _id, whatever the queue's size."""
    if not app.get("active"):
        return None
    key, base = app["queue_key"], app["base"]
    head = db[store.QUEUES].find_one({"_id": key}, {"nets": 1}, session=session) or {}
    block = db[store.QUEUES].find_one(
        {"_id": q.block_id(key, q.block_of(base))}, {"events": 1}, session=session
    ) or {"events": []}
    return q.number(
        base=base,
        extra=bool(app.get("extra")),
        key=(base, app["ts"], app["_id"]),
        nets=head.get("nets") or {},
        events=block.get("events") or [],
    )
