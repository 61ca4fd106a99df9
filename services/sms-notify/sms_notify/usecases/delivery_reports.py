"""Delivery reports pushed by the SMS providers: signed with a shared secret, each applied once
(the status poll in ``delivery`` asks for the same answers when no report comes)."""

from __future__ import annotations

import hashlib
import hmac

from edu_common.web.problems import Problem
from sms_notify.deps import Deps
from sms_notify.usecases import delivery

PROVIDERS = ("smsc", "mobizon")
# Provider words and codes -> ours. SMSC: 1 delivered, 2 read; 3, 20, 22-25 failed.
REPORT_STATUSES = {
    "delivered": "delivered",
    "undelivered": "undelivered",
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "REJECTD": "undelivered",
    "EXPIRED": "undelivered",
    "1": "delivered",
    "2": "delivered",
    **{str(c): "undelivered" for c in (3, 20, 22, 23, 24, 25)},
}


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check(deps: Deps, provider: str, raw: bytes, given: str) -> None:
    """A known provider and a body signed with the webhook's secret (compared in constant
    time), before anything in the body is read."""
    if provider not in PROVIDERS:
        raise Problem(404, "not_found", "No such provider.")
    expected = signature(deps.settings.report_secret, raw)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Problem(401, "invalid_signature", "The report's signature does not match.")


def apply(deps: Deps, provider: str, reports: list[dict]) -> dict:
    """Each ``{id, status}`` applied to our message; repeats change nothing."""
    applied = unknown = pending = 0
    now = deps.now()
    for item in reports:
        status = REPORT_STATUSES.get(item["status"].strip(), "pending")
        if status == "pending":
            pending += 1
            continue
        result = delivery.record_report(deps.db, provider, item["id"], status, item["status"], now)
        if result is None:
            unknown += 1
        else:
            applied += 1
    return {"applied": applied, "unknown": unknown, "pending": pending}
