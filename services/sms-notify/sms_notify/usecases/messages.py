"""What was sent: a person's own messages, and every message to one address (admins)."""

from __future__ import annotations

from edu_common import accounts, paging
from sms_notify import store
from sms_notify.deps import Deps


def shown(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("secret", None)  # never stored past sending; never shown either
    if doc.get("status") == store.SENDING:
        doc["status"] = store.QUEUED  # an attempt in flight is still queued to a person
    return doc


def _newest_first(deps: Deps, query: dict, limit: int, cursor: str | None) -> dict:
    # Message ids are random: pages go by creation time, the id breaking ties.
    return paging.keyset_page(
        deps.db[store.MESSAGES],
        query,
        field="created_at",
        limit=limit,
        cursor=cursor,
        newest_first=True,
        shape=shown,
    )


def mine(deps: Deps, account_id: str, *, limit: int, cursor: str | None) -> dict:
    """What was sent to me, newest first, with status: the messages addressed to my account.

    Never "everything sent to my phone or e-mail": a phone number is recycled to a new owner,
    and anyone may register with someone else's number, so an address proves nothing about
    whose the messages to it were. (Admins look up an address: ``sent_to``.)
    """
    account = accounts.require(deps.db, account_id)
    return _newest_first(deps, {"account_id": account["_id"]}, limit, cursor)


def sent_to(deps: Deps, address: str, *, limit: int, cursor: str | None) -> dict:
    """Every message to one phone or e-mail, newest first."""
    return _newest_first(deps, {"to": address}, limit, cursor)
