"""Messages that failed for good, as admins see them, and their re-sending (exactly once).

Delivery records a dead letter when it gives up on a message (codes excepted: a person asks
for a new one); the sweep sends a re-sent copy like any queued message.
"""

from __future__ import annotations

import datetime as dt

from pymongo.database import Database

from edu_common import paging
from edu_common.mongo import in_transaction
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.deps import Deps


def listing(deps: Deps, status: str | None, *, limit: int, cursor: str | None) -> dict:
    """Newest first; ``status``: open or resent, None for both."""
    return paging.keyset_page(
        deps.db[store.DEAD_LETTERS],
        {"status": status} if status else {},
        field="created_at",
        limit=limit,
        cursor=cursor,
        newest_first=True,
        shape=dict,
    )


def resend(deps: Deps, dead_letter_id: str) -> str:
    """Queue the message again, once; answers the copy's id. 409 with the first copy's id when
    it was re-sent before, 404 when there is no such dead letter."""
    try:
        message_id = _copy_once(deps.db, dead_letter_id, deps.now())
    except AlreadyResent as exc:
        raise Problem(
            409, "already_resent", "This dead letter was re-sent.", message_id=exc.message_id
        ) from None
    if message_id is None:
        raise Problem(404, "not_found", "No such dead letter.")
    return message_id


class AlreadyResent(Exception):
    def __init__(self, message_id: str):
        super().__init__(message_id)
        self.message_id = message_id


def _copy_once(db: Database, dead_letter_id: str, now: dt.datetime) -> str | None:
    """Queue a fresh copy of a dead letter's message, exactly once; answers its id.

    None if there is no such dead letter; AlreadyResent if it was re-sent before. The copy's
    key is ("resend:<dead letter id>", to, channel): even two admins at once make one message.
    """

    def work(session):
        letter = db[store.DEAD_LETTERS].find_one({"_id": dead_letter_id}, session=session)
        if letter is None:
            return None
        if letter.get("resent_message_id"):
            raise AlreadyResent(letter["resent_message_id"])
        original = db[store.MESSAGES].find_one({"_id": letter["message_id"]}, session=session)
        copy = {
            k: v
            for k, v in original.items()
            if k
            in (
                "kind", "purpose", "channel", "to", "language", "subject", "body", "account_id",
                "urgent", "segments", "encoding", "requested_language", "event_type",
            )
        }  # fmt: skip
        copy.update(
            _id=store.new_id(),
            event_id=f"resend:{dead_letter_id}",
            status=store.QUEUED,
            attempts=0,
            next_attempt_at=now,
            provider=None,
            provider_id=None,
            last_error=None,
            created_at=now,
            updated_at=now,
            sent_at=None,
            expires_at=None,
            resent_from=original["_id"],
        )
        if not store.insert_once(db, copy, session=session):
            existing = db[store.MESSAGES].find_one(
                {"event_id": copy["event_id"], "to": copy["to"], "channel": copy["channel"]},
                {"_id": 1},
                session=session,
            )
            raise AlreadyResent(existing["_id"])
        db[store.DEAD_LETTERS].update_one(
            {"_id": dead_letter_id},
            {"$set": {"status": "resent", "resent_message_id": copy["_id"], "resent_at": now}},
            session=session,
        )
        return copy["_id"]

    return in_transaction(db, work)
