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
from collections.abc import Mapping

from prometheus_client import Counter
from pymongo import ReturnDocument
from pymongo.database import Database

from edu_common.clock import Now, utcnow
from edu_common.logs import redact_text
from edu_common.mongo import in_transaction
from sms_notify import store
from sms_notify.adapters.channels import (
    Channel,
    Outgoing,
    PermanentError,
    Receipt,
    TransientError,
    provider_named,
)
from sms_notify.domain.retries import DEFAULT_POLICY, Policy
from sms_notify.store import (
    CODE_MASK,
    DEAD_LETTERS,
    DELIVERED,
    FAILED,
    HELD,
    MESSAGES,
    QUEUED,
    SENDING,
    SENT,
)

log = logging.getLogger(__name__)

ATTEMPTS = Counter("notify_delivery_attempts_total", "Delivery attempts", ["channel", "outcome"])


def _claimable(now: dt.datetime) -> dict:
    return {
        "$or": [
            {"status": QUEUED, "next_attempt_at": {"$lte": now}},
            {"status": HELD, "release_at": {"$lte": now}},  # quiet hours are over
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
    clock: Now = utcnow,
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
    clock: Now = utcnow,
    limit: int = 100,
) -> int:
    """Attempt every due message (and every one whose lease ran out); answers how many."""
    due = db[MESSAGES].find(_claimable(clock()), projection={"_id": 1})
    ids = [doc["_id"] for doc in due.sort("next_attempt_at", 1).limit(limit)]
    # Each claim is atomic: a message another worker took meanwhile is skipped.
    return sum(deliver(db, channels, i, policy=policy, clock=clock) is not None for i in ids)


def _attempt(
    db: Database, channels: Mapping[str, Channel], message: dict, policy: Policy, clock: Now
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
        answer = channel.send(outgoing)
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
    if not isinstance(answer, Receipt):
        answer = Receipt(channel.provider, str(answer))
    sent = {
        "status": SENT,
        "sent_at": now,
        "updated_at": now,
        "provider": answer.provider,
        "provider_id": answer.provider_id,
    }
    if message["channel"] == "sms":
        sent["status_check_at"] = now + policy.first_status_check
    _finish(
        db,
        message,
        {
            "$set": sent,
            "$unset": {"secret": "", "lease_until": "", "claim": "", "next_attempt_at": ""},
        },
    )
    log.info(
        "message sent",
        extra={
            "message_id": message["_id"],
            "channel": message["channel"],
            "provider": answer.provider,
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
    update = {
        "$set": {"status": FAILED, "failed_at": now, "last_error": error, "updated_at": now},
        "$unset": {"secret": "", "lease_until": "", "claim": "", "next_attempt_at": ""},
    }
    if message.get("secret") or message.get("kind") == "code":
        # A code is not re-sent by an admin: the person asks for a new one. No dead letter.
        _finish(db, message, update)
    else:

        def work(session):
            if _finish(db, message, update, session=session):
                dead_letter(db, message, error, now, session=session)

        in_transaction(db, work)
    log.warning(
        "message failed",
        extra={"message_id": message["_id"], "channel": message["channel"], "error": error},
    )
    return FAILED


def _finish(db: Database, message: dict, update: dict, session=None) -> bool:
    result = db[MESSAGES].update_one(
        {"_id": message["_id"], "status": SENDING, "claim": message["claim"]},
        update,
        session=session,
    )
    if result.matched_count == 0:
        # Our lease ran out and another worker took the message: its outcome stands.
        log.warning(
            "lease lost before the outcome was recorded", extra={"message_id": message["_id"]}
        )
        return False
    return True


def dead_letter(db: Database, message: dict, error: str, now: dt.datetime, session=None) -> None:
    """The record an admin lists and re-sends; one per failed message, whatever repeats."""
    db[DEAD_LETTERS].update_one(
        {"message_id": message["_id"]},
        {
            "$setOnInsert": {
                "_id": store.new_id(),
                "message_id": message["_id"],
                "event_id": message["event_id"],
                "kind": message.get("kind"),
                "channel": message["channel"],
                "to": message["to"],
                "account_id": message.get("account_id"),
                "error": error,
                "attempts": message.get("attempts", 0),
                "created_at": now,
                "status": "open",
                "resent_message_id": None,
            }
        },
        upsert=True,
        session=session,
    )


# --- delivery status --------------------------------------------------------------------------


def record_report(
    db: Database, provider: str, provider_id: str, status: str, detail: str | None, now
) -> str | None:
    """Apply a provider's report to our message; answers its status after, None if unknown.

    Idempotent: a repeated or late report changes nothing once the outcome is final.
    """
    found = db[MESSAGES].find_one({"provider": provider, "provider_id": provider_id})
    if found is None:
        return None
    if status == "pending" or found["status"] != SENT:
        return found["status"]
    if status == "delivered":
        update = {
            "$set": {
                "status": DELIVERED,
                "delivered_at": now,
                "updated_at": now,
                "provider_status": detail,
            },
            "$unset": {"status_check_at": ""},
        }
        db[MESSAGES].update_one({"_id": found["_id"], "status": SENT}, update)
        return DELIVERED
    error = f"{provider} reported it undelivered ({detail})"[:300]

    def work(session):
        result = db[MESSAGES].update_one(
            {"_id": found["_id"], "status": SENT},
            {
                "$set": {
                    "status": FAILED,
                    "failed_at": now,
                    "last_error": error,
                    "updated_at": now,
                    "provider_status": detail,
                },
                "$unset": {"status_check_at": ""},
            },
            session=session,
        )
        if result.modified_count:
            dead_letter(db, found, error, now, session=session)

    in_transaction(db, work)
    return FAILED


def poll_statuses(
    db: Database,
    channels: Mapping[str, Channel],
    *,
    policy: Policy = DEFAULT_POLICY,
    clock: Now = utcnow,
    limit: int = 100,
) -> int:
    """Ask the SMS providers about sent messages whose check is due; answers how many."""
    now = clock()
    sms = channels.get("sms")
    due = (
        db[MESSAGES]
        .find(
            {"status": SENT, "status_check_at": {"$lte": now}},
            projection={"provider": 1, "provider_id": 1, "to": 1, "sent_at": 1, "status_checks": 1},
        )
        .limit(limit)
    )
    asked = 0
    for m in list(due):
        provider = provider_named(sms, m.get("provider"))
        checks = m.get("status_checks", 0) + 1
        if provider is None or now - m["sent_at"] > policy.status_window:
            db[MESSAGES].update_one({"_id": m["_id"]}, {"$unset": {"status_check_at": ""}})
            continue
        try:
            reports = provider.status([m["provider_id"]], m["to"])
        except (TransientError, PermanentError):
            reports = []
        asked += 1
        final = None
        for r in reports:
            if r.provider_id == m["provider_id"] and r.status != "pending":
                final = record_report(db, m["provider"], r.provider_id, r.status, r.detail, now)
        if final is None:
            later = min(policy.first_status_check * 2**checks, dt.timedelta(hours=1))
            db[MESSAGES].update_one(
                {"_id": m["_id"], "status": SENT},
                {"$set": {"status_check_at": now + later, "status_checks": checks}},
            )
    return asked


_ADDRESS = re.compile(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+|\+?\d[\d ()-]{8,}\d")


def _scrub(text: str, message: dict) -> str:
    """An error text fit for logs and the database: no code, no recipient, no IIN."""
    secret = message.get("secret") or {}
    if secret.get("code"):
        text = text.replace(secret["code"], CODE_MASK)
    text = text.replace(message["to"], "<recipient>")
    return redact_text(_ADDRESS.sub("<address>", text))[:500]
