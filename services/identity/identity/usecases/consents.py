"""Consents (Law No. 94-V on personal data): recorded with their time, and the one that may be
withdrawn while the cabinet exists, the use of contacts for notifications, can change."""

from __future__ import annotations

from edu_common import mongo, outbox
from edu_common.web.problems import Problem
from identity import events, store
from identity.deps import Deps
from identity.usecases.common import announce_account


def change_notifications(deps: Deps, account_id: str, given: bool) -> dict:
    account = deps.db[store.ACCOUNTS].find_one({"_id": account_id}, {"consents": 1})
    if account is None:
        raise Problem(404, "account_not_found")
    current = (account.get("consents") or {}).get("notifications", {})
    if current.get("given") is given:
        return account.get("consents") or {}
    now = deps.now()
    entry = {"given": given, "at": now}

    def work(session):
        deps.db[store.ACCOUNTS].update_one(
            {"_id": account_id},
            # The history stays: when each consent was given or withdrawn is itself a record.
            {"$set": {"consents.notifications": entry},
             "$push": {"consent_history": {"consent": "notifications", **entry}}},
            session=session,
        )  # fmt: skip
        outbox.emit(
            deps.db,
            session,
            events.CONSENT_CHANGED,
            {"account_id": account_id, "consent": "notifications", "given": given},
        )
        announce_account(deps, session, account_id)

    mongo.in_transaction(deps.db, work)
    return {**(account.get("consents") or {}), "notifications": entry}
