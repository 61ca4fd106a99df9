"""Small helpers shared by subscriptions, balance and conversations: ids that sort by time,
cursor pages, and the asking account from the local copy of identity's accounts."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from pymongo.database import Database

from edu_common import accounts
from edu_common.web.problems import Problem

MAX_LIMIT = 100
_sequence = itertools.count()  # orders ids made in the same microsecond by this process


def sortable_id(now: dt.datetime) -> str:
    """An id whose string order is creation order: pages need no second sort key."""
    stamp = f"{now.astimezone(dt.UTC):%Y%m%d%H%M%S%f}"
    return f"{stamp}-{next(_sequence) % 10**10:010d}-{uuid.uuid4().hex[:8]}"


def page(collection, query: dict, *, limit: int, cursor: str | None, newest_first: bool = True):
    """(items, next cursor or None) over a collection whose ids are ``sortable_id``s."""
    limit = max(1, min(limit, MAX_LIMIT))
    q = dict(query)
    if cursor:
        q["_id"] = {"$lt" if newest_first else "$gt": cursor}
    docs = list(collection.find(q).sort("_id", -1 if newest_first else 1).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (docs[-1]["_id"] if more and docs else None)


def account_of(db: Database, account_id: str) -> dict:
    """The asking account from our copy; 409 while identity's event is still on its way."""
    account = accounts.get(db, account_id)
    if account is None:
        raise Problem(
            409,
            "account_not_synced",
            "Your account is not known here yet; try again in a few seconds.",
            headers={"Retry-After": "2"},
        )
    return account
