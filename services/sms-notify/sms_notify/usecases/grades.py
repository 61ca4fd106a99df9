"""Grades from the school journal: kept per student and digest period, then one paid SMS per
subscription at the digest time (``domain/digest.py`` says when and what)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging

from pymongo.errors import DuplicateKeyError

from edu_common import accounts, mongo
from edu_common.consumer import HandlerContext
from edu_common.envelope import Envelope
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain import digest
from sms_notify.journal import GradeRecorded
from sms_notify.usecases import teaching
from sms_notify.usecases.common import payload
from sms_notify.usecases.subscriptions import first_name, send_paid

log = logging.getLogger(__name__)


def schedule(deps: Deps) -> digest.Schedule:
    """When digests close their periods: the settings' weekday and time, local time."""
    return digest.Schedule(deps.settings.digest_weekday, deps.settings.digest_time, deps.tz)


def on_grade_recorded(deps: Deps, envelope: Envelope, ctx: HandlerContext) -> None:
    data = payload(GradeRecorded, envelope)
    teaching.note_journal(deps, ctx.session, data, envelope)
    now = deps.now()
    period = schedule(deps).period_for(data["recorded_at"], now)
    version = envelope.occurred_at
    fields = {
        "student_iin": data["student_iin"],
        "student_name": data.get("student_name"),
        "subject": data["subject"].strip(),
        "grade": data["grade"].strip(),
        "kind": data.get("kind"),
        "recorded_at": data["recorded_at"],
        "period": period,
        "received_at": now,
        "version": version,
        "event_id": envelope.id,
    }
    col = deps.db[store.JOURNAL_GRADES]
    current = col.find_one({"_id": data["grade_id"]}, {"version": 1}, session=ctx.session)
    if current is not None and current["version"] >= version:
        return  # an older correction arriving late changes nothing
    col.replace_one({"_id": data["grade_id"]}, fields, upsert=True, session=ctx.session)


def _student_key(iin: str) -> str:
    # Message ids are shown to admins: a hash names the student without the IIN.
    return hashlib.sha256(iin.encode()).hexdigest()[:16]


def run_digests(deps: Deps, now: dt.datetime | None = None) -> dict[str, int]:
    """Build the digests of the last closed period that are not built yet; answers counts.

    Safe to run often and on several workers: each (subscription, period) is claimed by a
    unique key in the same transaction as its message and charge.
    """
    now = now or deps.now()
    moment = schedule(deps).last_moment(now)
    if now - moment > deps.settings.digest_catch_up:
        return {}  # too late for last week's digest to be news; the next one is on time
    key = digest.period_key(moment)
    complete = f"complete|{key}"
    if deps.db[store.DIGESTS].find_one({"_id": complete}, {"_id": 1}):
        return {}  # every subscription's digest of this period is built: nothing to scan
    done = {d["_id"] for d in deps.db[store.DIGESTS].find({"period": moment}, {"_id": 1})}
    counts: dict[str, int] = {}
    # Subscribed after the moment: their first digest is the next one.
    query = {"kinds": "grades_weekly", "created_at": {"$lte": moment}}
    subs = deps.db[store.SUBSCRIPTIONS].find(query).sort("_id", 1)
    for sub in subs:
        digest_id = f"{sub['_id']}|{key}"
        if digest_id in done:
            continue
        try:
            status = mongo.in_transaction(
                deps.db,
                lambda session, sub=sub, d=digest_id: _one_digest(deps, session, sub, moment, d),
            )
        except DuplicateKeyError:
            status = "taken"  # another worker built it meanwhile
        except Exception:
            # One subscription's trouble must not hold back the others; the next run retries it.
            log.exception("weekly digest failed", extra={"subscription_id": sub["_id"]})
            status = "error"
        counts[status] = counts.get(status, 0) + 1
    # Only a run that built or saw built every digest closes the period; one that met another
    # worker mid-way leaves that to it, in case its transaction fails.
    if "error" not in counts and "taken" not in counts:
        with contextlib.suppress(DuplicateKeyError):  # another worker finished it too
            deps.db[store.DIGESTS].insert_one({"_id": complete, "period": moment, "at": deps.now()})
    if counts:
        log.info("weekly digests", extra={"period": key, "counts": counts})
    return counts


def _one_digest(deps: Deps, session, sub: dict, moment: dt.datetime, digest_id: str) -> str:
    db = deps.db
    record = {"_id": digest_id, "period": moment, "subscription_id": sub["_id"], "at": deps.now()}
    db[store.DIGESTS].insert_one(record, session=session)  # the claim: a second run stops here
    found = list(
        db[store.JOURNAL_GRADES].find(
            {"student_iin": sub["student_iin"], "period": moment}, session=session
        )
    )
    grades = [
        digest.Grade(g["subject"], g["grade"], g["recorded_at"], g.get("kind")) for g in found
    ]
    lines = digest.digest_lines(grades)
    status = "no_grades"
    message_id = None
    if lines:
        account = db[accounts.ACCOUNTS].find_one(
            {"_id": sub["account_id"], "active": {"$ne": False}}, session=session
        )
        if account is None:
            status = "no_account"
        else:
            names = [g["student_name"] for g in found if g.get("student_name")]
            name = next(map(first_name, names), None) or sub.get("student_name") or ""
            result = send_paid(
                deps,
                session,
                sub=sub,
                account=account,
                event_id=f"digest:{_student_key(sub['student_iin'])}:{digest.period_key(moment)}",
                kind="grades_weekly",
                params={
                    "student": name,
                    "period": digest.period_label(moment, deps.tz),
                    "grades": digest.render_lines(lines),
                },
            )
            status = result.status if result is not None else "same_phone_sent"
            message_id = result.id if result is not None else None
    db[store.DIGESTS].update_one(
        {"_id": digest_id}, {"$set": {"status": status, "message_id": message_id}}, session=session
    )
    return status
