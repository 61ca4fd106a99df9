"""Idempotency-Key for mutating calls: a retried request gets the first answer, not a second effect.

Only successful answers are kept (24 hours); a failure frees the key so the client can retry.
The key is scoped to who is asking (account, else client address) and to the route.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable

from flask import Response, g, request
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from edu_common.mongo import Index
from edu_common.web.problems import Problem

COLLECTION = "idempotency_keys"
TTL = dt.timedelta(hours=24)
INDEXES = [Index(COLLECTION, [("expires_at", 1)], name="idempotency_ttl", expire_after_seconds=0)]
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
HEADER = "Idempotency-Key"


def idempotent(database: Callable[[], Database]):
    """Decorator for a view, placed under the blueprint's route decorator."""

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                return view(*args, **kwargs)
            if not _KEY.match(key):
                raise Problem(
                    400,
                    "idempotency_key_invalid",
                    "Idempotency-Key must be 8-128 letters, digits or . _ : -",
                    field=HEADER,
                )
            principal = g.get("principal")
            who = principal.account_id if principal else (request.remote_addr or "-")
            scope = f"{who}|{request.method}|{request.path}|{key}"
            doc_id = hashlib.sha256(scope.encode()).hexdigest()
            fingerprint = hashlib.sha256(request.get_data()).hexdigest()
            col = database()[COLLECTION]
            now = dt.datetime.now(dt.UTC)
            try:
                col.insert_one(
                    {
                        "_id": doc_id,
                        "fingerprint": fingerprint,
                        "state": "running",
                        "expires_at": now + TTL,
                    }
                )
            except DuplicateKeyError:
                return _replay(col.find_one({"_id": doc_id}), fingerprint)
            try:
                resp = view(*args, **kwargs)
            except BaseException:
                col.delete_one({"_id": doc_id})
                raise
            if not isinstance(resp, Response) or not 200 <= resp.status_code < 300:
                col.delete_one({"_id": doc_id})
                return resp
            col.update_one(
                {"_id": doc_id},
                {
                    "$set": {
                        "state": "done",
                        "status": resp.status_code,
                        "body": resp.get_data(as_text=True),
                        "mimetype": resp.mimetype,
                    }
                },
            )
            return resp

        return inner

    return wrap


def _replay(doc: dict | None, fingerprint: str) -> Response:
    if doc is None or doc.get("state") == "running":
        raise Problem(
            409,
            "idempotency_key_in_use",
            "A request with this key is in progress.",
            headers={"Retry-After": "1"},
        )
    if doc["fingerprint"] != fingerprint:
        raise Problem(
            422,
            "idempotency_key_reused",
            "This Idempotency-Key was used with a different request.",
            field=HEADER,
        )
    resp = Response(doc["body"], status=doc["status"], mimetype=doc.get("mimetype"))
    resp.headers["Idempotent-Replayed"] = "true"
    return resp
