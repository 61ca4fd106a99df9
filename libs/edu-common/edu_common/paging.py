"""Keyset pages over a collection: ordered by a time field with ``_id`` as the tie-break, the
cursor naming the last item shown, so a page costs the same however deep it is."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable


class BadCursor(ValueError):
    """The cursor is not one we gave; each service answers it in its own words."""


def encode_cursor(doc: dict, field: str) -> str:
    raw = json.dumps([doc[field].isoformat(), doc["_id"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str, field: str, newest_first: bool) -> dict:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, last_id = json.loads(base64.urlsafe_b64decode(padded))
        at = dt.datetime.fromisoformat(at)
    except (ValueError, TypeError) as exc:
        raise BadCursor(cursor) from exc
    beyond = "$lt" if newest_first else "$gt"
    return {"$or": [{field: {beyond: at}}, {field: at, "_id": {beyond: last_id}}]}


def keyset_page(
    collection,
    query: dict,
    *,
    field: str,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
    shape: Callable[[dict], dict] = lambda d: d,
) -> dict:
    """``{items, next_cursor}``; raises BadCursor for a cursor we did not give."""
    full = {"$and": [query, _after(cursor, field, newest_first)]} if cursor else query
    order = -1 if newest_first else 1
    docs = list(collection.find(full).sort([(field, order), ("_id", order)]).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return {
        "items": [shape(d) for d in docs],
        "next_cursor": encode_cursor(docs[-1], field) if more and docs else None,
    }
