"""Keyset pages over a collection, the one way every service pages a list.

Ordered by ``_id`` alone (for ids whose order is creation order) or by another field (a time, a
name, a number) with ``_id`` as the tie-break; the cursor names the last item shown, so a page
costs the same however deep it is. A cursor we did not give is 400 ``invalid_cursor``, naming
the field, everywhere.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

from edu_common.web.problems import Problem


def bad_cursor() -> Problem:
    return Problem(400, "invalid_cursor", "The cursor is not one we gave.", field="cursor")


def _plain(value):
    """A sort value as JSON can carry it: a datetime is tagged so it comes back as one."""
    return {"at": value.isoformat()} if isinstance(value, dt.datetime) else value


def _typed(value):
    if isinstance(value, dict) and set(value) == {"at"}:
        return dt.datetime.fromisoformat(value["at"])
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    raise ValueError(value)


def _fields(field: str | tuple[str, ...]) -> tuple[str, ...]:
    """The sort fields before the ``_id`` tie-break (none where the order is ``_id``'s)."""
    if isinstance(field, str):
        return () if field == "_id" else (field,)
    return tuple(field)


def encode_cursor(doc: dict, field: str | tuple[str, ...] = "_id") -> str:
    last = [*(_plain(doc.get(f)) for f in _fields(field)), doc["_id"]]
    raw = json.dumps(last).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, field: str | tuple[str, ...]) -> list:
    fields = _fields(field)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(last, list) or len(last) != len(fields) + 1:
            raise ValueError(cursor)
        last[:-1] = [_typed(v) for v in last[:-1]]
        if not isinstance(last[-1], str | int) or isinstance(last[-1], bool):
            raise ValueError(cursor)
    except (ValueError, TypeError) as exc:  # binascii.Error and JSON errors are ValueErrors
        raise bad_cursor() from exc
    return last


def _after(cursor: str, field: str | tuple[str, ...], newest_first: bool) -> dict:
    beyond = "$lt" if newest_first else "$gt"
    last = _decode(cursor, field)
    keys = [*_fields(field), "_id"]
    if len(keys) == 1:
        return {"_id": {beyond: last[0]}}
    # Lexicographic: beyond on the first key, or equal on it and beyond on the next, ...
    return {
        "$or": [
            {**{k: last[j] for j, k in enumerate(keys[:i])}, keys[i]: {beyond: last[i]}}
            for i in range(len(keys))
        ]
    }


def keyset_page(
    collection,
    query: dict,
    *,
    field: str | tuple[str, ...] = "_id",
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
    shape: Callable[[dict], dict] = lambda d: d,
) -> dict:
    """``{items, next_cursor}`` ordered by ``field`` (one or several, all one way) then
    ``_id``; raises Problem 400 ``invalid_cursor`` for a cursor we did not give."""
    full = {"$and": [query, _after(cursor, field, newest_first)]} if cursor else query
    order = -1 if newest_first else 1
    sort = [(f, order) for f in (*_fields(field), "_id")]
    docs = list(collection.find(full).sort(sort).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return {
        "items": [shape(d) for d in docs],
        "next_cursor": encode_cursor(docs[-1], field) if more and docs else None,
    }


def list_page(items: list[dict], *, key: str, limit: int, cursor: str | None) -> dict:
    """The keyset page of a list already ordered by its unique ``key`` (a rank, say) and
    built in memory: ``{items, next_cursor}``, 400 ``invalid_cursor`` as ``keyset_page``."""
    if cursor:
        (last,) = _decode(cursor, "_id")
        items = [i for i in items if i[key] > last]
    chunk = items[:limit]
    more = len(items) > limit
    return {
        "items": chunk,
        "next_cursor": encode_cursor({"_id": chunk[-1][key]}) if more and chunk else None,
    }


def page(collection, query: dict, args: dict, **how) -> dict:
    """``keyset_page`` with a list query's ``limit`` and ``cursor`` (the ``Paging`` schema's);
    ``how``: ``field``, ``newest_first``, ``shape``."""
    return keyset_page(collection, query, limit=args["limit"], cursor=args.get("cursor"), **how)
