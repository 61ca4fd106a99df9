"""The transactional outbox: events are written in the same transaction as the state change.

A relay (edu_common.relay) publishes them later, so an HTTP request never waits for,
or fails because of, the broker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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


def add(
    db: Database,
    session: ClientSession | None,
    envelope: Envelope,
    exchange: str,
    secret_fields: Iterable[str] = (),
) -> None:
    """``secret_fields``: payload fields the relay removes once the broker has the event."""
    ctx = context.current()
    headers = {}
    if ctx.traceparent:
        headers["traceparent"] = ctx.traceparent
    if ctx.request_id:
        headers["x-request-id"] = ctx.request_id
    doc = {
        "_id": envelope.id,
        "exchange": exchange,
        "routing_key": envelope.routing_key,
        "body": envelope.to_dict(),
        "headers": headers,
        "created_at": dt.datetime.now(dt.UTC),
        "sent_at": None,
    }
    secrets = [f for f in secret_fields if f in envelope.data]
    if secrets:
        doc["secret_fields"] = secrets
    db[COLLECTION].insert_one(doc, session=session)


def emit(db: Database, session: ClientSession | None, event: EventType, data: dict) -> Envelope:
    """Record one event of `event`'s type; call inside the transaction of the change it reports."""
    envelope = event.make(data)
    add(db, session, envelope, event.exchange, event.secret_fields)
    return envelope


def sent_marks(doc: dict, now: dt.datetime) -> dict:
    """The update of a row the broker has confirmed: sent, purged later, and its secrets gone
    at once (a confirmed event is never sent again, so nothing needs them any more)."""
    marks: dict = {"$set": {"sent_at": now, "purge_at": now + SENT_RETENTION}}
    secrets = doc.get("secret_fields") or ()
    if secrets:
        marks["$unset"] = {f"body.data.{f}": "" for f in secrets}
        marks["$set"]["secrets_removed_at"] = now
    return marks


def pending_count(db: Database) -> int:
    return db[COLLECTION].count_documents({"sent_at": None})
