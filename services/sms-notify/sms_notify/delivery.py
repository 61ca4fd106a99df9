"""Sending stored messages: claim one, hand it to its channel, record what happened.

A worker claims a message by moving it from queued to sending in one atomic update that
also sets a lease; no other worker can take it until the lease runs out, so a crashed
worker's message is taken over by the next sweep instead of staying stuck. Only the holder
of the claim may record the outcome. The secret is removed as soon as the message is sent or
has failed for good. A send that reached the provider just before a crash is sent again
after the lease: providers get our message id (Message-ID, SMSC's id) to recognise it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client import Counter
from pymongo import ReturnDocument
from pymongo.database import Database

from edu_common.logs import redact_text
from sms_notify import store
from sms_notify.channels import Channel, Outgoing, PermanentError, TransientError
from sms_notify.store import CODE_MASK, FAILED, MESSAGES, QUEUED, SENDING, SENT

log = logging.getLogger(__name__)

ATTEMPTS = Counter("notify_delivery_attempts_total", "Delivery attempts", ["channel", "outcome"])

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 8
    backoff_base: dt.timedelta = dt.timedelta(seconds=5)
    backoff_max: dt.timedelta = dt.timedelta(minutes=10)
    # Longer than the slowest send (SMTP and SMSC time out well before it).
    lease: dt.timedelta = dt.timedelta(seconds=60)

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait before the next try after `attempts` tries: 5s, 10s, 20s... up to the max."""
        return min(self.backoff_base * 2 ** max(attempts - 1, 0), self.backoff_max)


DEFAULT_POLICY = Policy()


def _claimable(now: dt.datetime) -> dict:
    return {
        "$or": [
            {"status": QUEUED, "next_attempt_at": {"$lte": now}},
            {"status": SENDING, "lease_until": {"$lte": now}},  # its worker died mid-send
        ]
    }


def claim(db: Database, message_id: str, now: dt.datetime, policy: Policy) -> dict | None:
    """Take the message for one attempt if it is due and nobody holds it; None otherwise."""
    return db[MESSAGES].find_one_and_update(
        {"_id": message_id, **_claimable(now)},
        {
            "$set": {
                "status": SENDING,
                "lease_until": now + policy.lease,
                "claim": uuid.uuid4().hex,
                "updated_at": now,
            },
            "$inc": {"attempts": 1},
        },
        return_document=ReturnDocument.AFTER,
    )


def deliver(
    db: Database,
    channels: Mapping[str, Channel],
    message_id: str,
    *,
    policy: Policy = DEFAULT_POLICY,
    clock: Clock = utcnow,
) -> str | None:
    """One attempt at the message; answers its status after it, None if it was not ours."""
    message = claim(db, message_id, clock(), policy)
    if message is None:
        return None
    outcome = _attempt(db, channels, message, policy, clock)
    ATTEMPTS.labels(message["channel"], outcome).inc()
    return outcome


def sweep(
    db: Database,
    channels: Mapping[str, Channel],
    *,
    policy: Policy = DEFAULT_POLICY,
    clock: Clock = utcnow,
    limit: int = 100,
) -> int:
    """Attempt every due message (and every one whose lease ran out); answers how many."""
    due = db[MESSAGES].find(_claimable(clock()), projection={"_id": 1})
    ids = [doc["_id"] for doc in due.sort("next_attempt_at", 1).limit(limit)]
    # Each claim is atomic: a message another worker took meanwhile is skipped.
    return sum(deliver(db, channels, i, policy=policy, clock=clock) is not None for i in ids)


def _attempt(
    db: Database, channels: Mapping[str, Channel], message: dict, policy: Policy, clock: Clock
) -> str:
    expires_at = message.get("expires_at")
    if expires_at is not None and clock() >= expires_at:
        return _fail(db, message, "expired before it could be sent", clock())
    channel = channels.get(message["channel"])
    if channel is None:
        return _fail(db, message, f"no adapter for channel {message['channel']}", clock())
    secret = message.get("secret")
    if not secret and CODE_MASK in (message.get("body") or ""):
        return _fail(db, message, "the code is no longer stored", clock())
    outgoing = Outgoing(
        id=message["_id"],
        channel=message["channel"],
        to=message["to"],
        subject=store.reveal(message.get("subject"), secret),
        body=store.reveal(message["body"], secret),
    )
    try:
        provider_id = channel.send(outgoing)
    except PermanentError as exc:
        return _fail(db, message, _scrub(str(exc), message), clock())
    except TransientError as exc:
        return _retry_or_fail(db, message, _scrub(str(exc), message), policy, clock())
    except Exception as exc:
        # An adapter bug must neither lose the message nor stop the sweep: try again later.
        log.exception("channel %s raised unexpectedly", channel.provider)
        error = _scrub(f"{type(exc).__name__}: {exc}", message)
        return _retry_or_fail(db, message, error, policy, clock())
    now = clock()
    _finish(
        db,
        message,
        {
            "$set": {
                "status": SENT,
                "sent_at": now,
                "updated_at": now,
                "provider": channel.provider,
                "provider_id": provider_id,
            },
            "$unset": {"secret": "", "lease_until": "", "claim": "", "next_attempt_at": ""},
        },
    )
    log.info(
        "message sent",
        extra={
            "message_id": message["_id"],
            "channel": message["channel"],
            "provider": channel.provider,
            "attempts": message["attempts"],
        },
    )
    return SENT


def _retry_or_fail(
    db: Database, message: dict, error: str, policy: Policy, now: dt.datetime
) -> str:
    attempts = message["attempts"]
    if attempts >= policy.max_attempts:
        return _fail(db, message, f"gave up after {attempts} attempts: {error}", now)
    next_at = now + policy.backoff(attempts)
    _finish(
        db,
        message,
        {
            "$set": {
                "status": QUEUED,
                "next_attempt_at": next_at,
                "last_error": error,
                "updated_at": now,
            },
            "$unset": {"lease_until": "", "claim": ""},
        },
    )
    log.warning(
        "message not sent, will try again",
        extra={
            "message_id": message["_id"],
            "channel": message["channel"],
            "attempts": attempts,
            "next_attempt_at": next_at.isoformat(),
            "error": error,
        },
    )
    return QUEUED


def _fail(db: Database, message: dict, error: str, now: dt.datetime) -> str:
    _finish(
        db,
        message,
        {
            "$set": {"status": FAILED, "failed_at": now, "last_error": error, "updated_at": now},
            "$unset": {"secret": "", "lease_until": "", "claim": "", "next_attempt_at": ""},
        },
    )
    log.warning(
        "message failed",
        extra={"message_id": message["_id"], "channel": message["channel"], "error": error},
    )
    return FAILED


def _finish(db: Database, message: dict, update: dict) -> None:
    result = db[MESSAGES].update_one(
        {"_id": message["_id"], "status": SENDING, "claim": message["claim"]}, update
    )
    if result.matched_count == 0:
        # Our lease ran out and another worker took the message: its outcome stands.
        log.warning(
            "lease lost before the outcome was recorded", extra={"message_id": message["_id"]}
        )


_ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+|\+?\d[\d ()-]{8,}\d")


def _scrub(text: str, message: dict) -> str:
    """An error text fit for logs and the database: no code, no recipient, no IIN."""
    secret = message.get("secret") or {}
    if secret.get("code"):
        text = text.replace(secret["code"], CODE_MASK)
    text = text.replace(message["to"], "<recipient>")
    return redact_text(_ADDRESS.sub("<address>", text))[:500]
