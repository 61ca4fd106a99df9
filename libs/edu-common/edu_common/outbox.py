"""The transactional outbox: events are written in the same transaction as the state change.

A relay (edu_common.relay) publishes them later, so an HTTP request never waits for,
or fails because of, the broker.
"""

from __future__ import annotations

import datetime as dt

from pymongo.client_session import ClientSession
from pymongo.database import Database

from edu_common import context
from edu_common.envelope import Envelope, EventType
from edu_common.mongo import Index

COLLECTION = "outbox"
SENT_RETENTION = dt.timedelta(days=7)

INDEXES = [
    Index(COLLECTION, [("sent_at", 1), ("created_at", 1)], name="outbox_pending"),
    # Its own field, set when sent: an index on sent_at would tempt planners away from the one
    # above when looking for pending events.
    Index(COLLECTION, [("purge_at", 1)], name="outbox_sent_ttl", expire_after_seconds=0),
]


def add(db: Database, session: ClientSession | None, envelope: Envelope, exchange: str) -> None:
    ctx = context.current()
    headers = {}
    if ctx.traceparent:
        headers["traceparent"] = ctx.traceparent
    if ctx.request_id:
        headers["x-request-id"] = ctx.request_id
    db[COLLECTION].insert_one(
        {
            "_id": envelope.id,
            "exchange": exchange,
            "routing_key": envelope.routing_key,
            "body": envelope.to_dict(),
            "headers": headers,
            "created_at": dt.datetime.now(dt.UTC),
            "sent_at": None,
        },
        session=session,
    )


def emit(db: Database, session: ClientSession | None, event: EventType, data: dict) -> Envelope:
    """Record one event of `event`'s type; call inside the transaction of the change it reports."""
    envelope = event.make(data)
    add(db, session, envelope, event.exchange)
    return envelope


def pending_count(db: Database) -> int:
    return db[COLLECTION].count_documents({"sent_at": None})
