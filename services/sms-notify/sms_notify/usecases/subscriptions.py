"""Use cases of SMS subscriptions to a student's grades and homework (seed 004).

A parent (a citizen account) subscribes a phone to ``homework`` and/or ``grades_weekly`` for a
student by IIN. The phone is the account's own, or one the parent confirmed with a code. When
the population registry knows the student, only a parent of the student may subscribe.

Documents::

    subscriptions        {_id, account_id, student_iin, student_name, phone, kinds, created_at}
    phone_confirmations  {_id, account_id, phone, code_hash, attempts, expires_at, confirmed_at}
    confirmed_phones     {_id: "<account>|<phone>", account_id, phone, confirmed_at}
    journal_grades       {_id: grade_id, student_iin, subject, grade, kind, recorded_at,
                          period (the digest's closing moment), received_at, version}
    digests              {_id: "<subscription>|<period>", status, message_id, at}: one per
                          subscription and period, whatever runs the task or how often
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable

from marshmallow import ValidationError
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from edu_common import accounts, mongo
from edu_common.consumer import HandlerContext, Reject
from edu_common.envelope import Envelope
from edu_common.kz.iin import mask_iin
from edu_common.registry import RegistryError, RegistryUnavailable
from edu_common.web.problems import Problem
from sms_notify import school_common, store
from sms_notify.domain import digest
from sms_notify.journal import GradeRecorded, HomeworkAssigned
from sms_notify.settings_school import SchoolDeps
from sms_notify.usecases import balance, outgoing

log = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"
PHONE_CONFIRMATIONS = "phone_confirmations"
CONFIRMED_PHONES = "confirmed_phones"
GRADES = "journal_grades"
DIGESTS = "digests"

KINDS = ("grades_weekly", "homework")
HOMEWORK_PREVIEW = 120  # characters of the homework text in the SMS: every segment is paid

INDEXES = [
    mongo.Index(
        SUBSCRIPTIONS,
        [("account_id", 1), ("student_iin", 1), ("phone", 1)],
        unique=True,
        name="one_subscription_per_phone",
    ),
    mongo.Index(SUBSCRIPTIONS, [("student_iin", 1), ("kinds", 1)], name="subscribers_of"),
    mongo.Index(PHONE_CONFIRMATIONS, [("account_id", 1), ("created_at", -1)], name="conf_by_acc"),
    mongo.Index(PHONE_CONFIRMATIONS, [("purge_at", 1)], name="conf_ttl", expire_after_seconds=0),
    mongo.Index(GRADES, [("student_iin", 1), ("period", 1)], name="grades_of_period"),
    mongo.Index(DIGESTS, [("period", 1)], name="digests_of_period"),
]


# --- subscribing ---------------------------------------------------------------------------
def create(
    school: SchoolDeps, account_id: str, student_iin: str, phone: str, kinds: list[str]
) -> dict:
    account = school_common.account_of(school.db, account_id)
    student = _check_parent(school, account, student_iin)
    if phone != account.get("phone") and not school.db[CONFIRMED_PHONES].find_one(
        {"_id": f"{account_id}|{phone}"}
    ):
        raise Problem(
            403,
            "phone_not_confirmed",
            "This phone is not your account's: confirm it first with "
            "POST /subscriptions/phone-confirmations.",
            field="phone",
        )
    now = school.now()
    doc = {
        "_id": school_common.sortable_id(now),
        "account_id": account_id,
        "student_iin": student_iin,
        "student_name": student.name if student else None,
        "phone": phone,
        "kinds": sorted(set(kinds)),
        "created_at": now,
    }
    try:
        school.db[SUBSCRIPTIONS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(
            409,
            "subscription_exists",
            "This phone is subscribed to this student already: delete it to change the kinds.",
        ) from None
    log.info(
        "subscribed",
        extra={"subscription_id": doc["_id"], "student": mask_iin(student_iin), "kinds": kinds},
    )
    return doc


def _check_parent(school: SchoolDeps, account: dict, student_iin: str):
    """The student's registry record; 403 when the registry names other parents."""
    try:
        student = school.registry.find_person(student_iin)
    except RegistryUnavailable:
        raise Problem(
            503,
            "registry_unavailable",
            "The population registry cannot be reached; try again later.",
            headers={"Retry-After": "30"},
        ) from None
    except RegistryError:
        log.exception("population registry answered something unexpected")
        raise Problem(503, "registry_unavailable", headers={"Retry-After": "30"}) from None
    if student is not None and account.get("iin") not in student.parents:
        raise Problem(
            403,
            "not_your_child",
            "The population registry does not list you as this student's parent.",
            field="student_iin",
        )
    return student


def mine(school: SchoolDeps, account_id: str, *, limit: int, cursor: str | None):
    school_common.account_of(school.db, account_id)
    return school_common.page(
        school.db[SUBSCRIPTIONS], {"account_id": account_id}, limit=limit, cursor=cursor
    )


def delete(school: SchoolDeps, account_id: str, subscription_id: str) -> None:
    result = school.db[SUBSCRIPTIONS].delete_one({"_id": subscription_id, "account_id": account_id})
    if result.deleted_count == 0:
        raise Problem(404, "not_found", "No such subscription of yours.")


# --- confirming a phone --------------------------------------------------------------------
def _code_hash(school: SchoolDeps, confirmation_id: str, code: str) -> str:
    message = f"{confirmation_id}|{code}".encode()
    return hmac.new(school.settings.phone_code_pepper, message, hashlib.sha256).hexdigest()


def start_confirmation(school: SchoolDeps, account_id: str, phone: str) -> dict:
    account = school_common.account_of(school.db, account_id)
    now = school.now()
    ttl = school.settings.phone_code_ttl
    recent = school.db[PHONE_CONFIRMATIONS].count_documents(
        {"account_id": account_id, "created_at": {"$gt": now - ttl}}
    )
    if recent >= school.settings.phone_codes_per_window:
        raise Problem(
            429,
            "too_many_requests",
            "Too many codes asked for; wait a few minutes.",
            headers={"Retry-After": str(int(ttl.total_seconds()))},
        )
    code = f"{secrets.randbelow(10**6):06d}"
    conf_id = school_common.sortable_id(now)
    doc = {
        "_id": conf_id,
        "account_id": account_id,
        "phone": phone,
        "code_hash": _code_hash(school, conf_id, code),
        "attempts": 0,
        "created_at": now,
        "expires_at": now + ttl,
        "confirmed_at": None,
        "purge_at": now + ttl + dt.timedelta(days=1),
    }

    def work(session: ClientSession):
        school.db[PHONE_CONFIRMATIONS].insert_one(doc, session=session)
        return outgoing.enqueue(
            school.db,
            session,
            event_id=f"phone-confirmation:{conf_id}",
            kind="code",
            to=phone,
            channel="sms",
            language=account.get("language") or "ru",
            template="phone_confirmation",
            params={"code": store.CODE_MASK, "minutes": int(ttl.total_seconds() // 60)},
            account_id=account_id,
            urgent=True,
            secret={"code": code},
            expires_at=doc["expires_at"],
            now=now,
        )

    sent = mongo.in_transaction(school.db, work)
    if sent is not None and sent.status == store.REJECTED_LIMIT:
        # Kept as a record of the refusal; the parent learns why and when to retry.
        raise Problem(
            429,
            "too_many_codes",
            "Too many codes were sent to this phone; try again in a few minutes.",
            headers={"Retry-After": "600"},
        )
    return confirmation_view(school, doc)


def confirmation_view(school: SchoolDeps, doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "phone": doc["phone"],
        "expires_at": doc["expires_at"],
        "confirmed": doc.get("confirmed_at") is not None,
        "attempts_left": max(0, school.settings.phone_code_attempts - doc["attempts"]),
    }


def confirm(school: SchoolDeps, account_id: str, conf_id: str, code: str) -> dict:
    col = school.db[PHONE_CONFIRMATIONS]
    doc = col.find_one({"_id": conf_id, "account_id": account_id})
    if doc is None:
        raise Problem(404, "not_found", "No such phone confirmation of yours.")
    if doc.get("confirmed_at") is not None:
        return confirmation_view(school, doc)
    now = school.now()
    if doc["expires_at"] <= now:
        raise Problem(410, "code_expired", "The code has expired; ask for a new one.")
    most = school.settings.phone_code_attempts
    doc = col.find_one_and_update(
        {"_id": conf_id, "attempts": {"$lt": most}, "confirmed_at": None},
        {"$inc": {"attempts": 1}},
        return_document=True,
    )
    if doc is None:
        again = col.find_one({"_id": conf_id}) or {}
        if again.get("confirmed_at") is not None:
            return confirmation_view(school, again)
        raise Problem(429, "too_many_attempts", "Too many wrong codes; ask for a new one.")
    if not hmac.compare_digest(doc["code_hash"], _code_hash(school, conf_id, code)):
        raise Problem(
            422,
            "code_invalid",
            "The code is not right.",
            field="code",
            attempts_left=max(0, most - doc["attempts"]),
        )
    col.update_one({"_id": conf_id}, {"$set": {"confirmed_at": now}})
    school.db[CONFIRMED_PHONES].update_one(
        {"_id": f"{account_id}|{doc['phone']}"},
        {"$set": {"account_id": account_id, "phone": doc["phone"], "confirmed_at": now}},
        upsert=True,
    )
    return confirmation_view(school, {**doc, "confirmed_at": now})


# --- journal events ------------------------------------------------------------------------
def _load(schema, envelope: Envelope) -> dict:
    try:
        return schema().load(envelope.data)
    except ValidationError as exc:
        # Retrying cannot fix a payload: park it (the error names fields, not values).
        raise Reject(f"invalid {envelope.type} payload: {sorted(exc.messages)}") from exc


def _first_name(name: str | None) -> str:
    """How a short SMS names the student: the given name (journal: 'Surname Name ...')."""
    parts = (name or "").split()
    return parts[1] if len(parts) > 1 else (parts[0] if parts else "")


def _payers(school: SchoolDeps, session, subs: Iterable[dict]):
    """(subscription, account) per distinct phone: the oldest subscription pays.

    Two parents subscribing one phone to one child get one SMS, charged once.
    """
    seen: set[str] = set()
    for sub in subs:
        if sub["phone"] in seen:
            continue
        account = school.db[accounts.ACCOUNTS].find_one(
            {"_id": sub["account_id"], "active": {"$ne": False}}, session=session
        )
        if account is None:
            continue  # deactivated: its subscriptions stay silent
        seen.add(sub["phone"])
        yield sub, account


def _already(school: SchoolDeps, session, event_id: str, phone: str) -> bool:
    """A message for (event, phone, sms) exists: checked before charging, so never twice."""
    key = {"event_id": event_id, "to": phone, "channel": "sms"}
    return school.db[store.MESSAGES].find_one(key, {"_id": 1}, session=session) is not None


def _send_paid(
    school: SchoolDeps, session, *, sub: dict, account: dict, event_id: str, kind: str, params: dict
):
    if _already(school, session, event_id, sub["phone"]):
        return None
    result = outgoing.enqueue(
        school.db,
        session,
        event_id=event_id,
        kind=kind,
        to=sub["phone"],
        channel="sms",
        language=account.get("language") or "ru",
        template=kind,
        params=params,
        account_id=account["_id"],
        charge=balance.charger(school, session, account["_id"]),
        now=school.now(),
        subscription_id=sub["_id"],
    )
    if result is not None and result.status == store.NO_BALANCE:
        balance.note_run_out(school, session, account)
    return result


def on_homework_assigned(school: SchoolDeps, envelope: Envelope, ctx: HandlerContext) -> None:
    data = _load(HomeworkAssigned, envelope)
    subs = (
        ctx.db[SUBSCRIPTIONS]
        .find({"student_iin": data["student_iin"], "kinds": "homework"}, session=ctx.session)
        .sort([("created_at", 1), ("_id", 1)])
    )
    text = " ".join(data["text"].split())
    if len(text) > HOMEWORK_PREVIEW:
        text = text[: HOMEWORK_PREVIEW - 1].rstrip() + "…"
    due = data.get("due_date")
    for sub, account in _payers(school, ctx.session, subs):
        name = _first_name(data.get("student_name")) or sub.get("student_name") or ""
        _send_paid(
            school,
            ctx.session,
            sub=sub,
            account=account,
            event_id=envelope.id,
            kind="homework",
            params={
                "student": name,
                "subject": data["subject"],
                "text": text,
                "due": due.strftime("%d.%m") if due else "-",
            },
        )


def schedule(school: SchoolDeps) -> digest.Schedule:
    return digest.Schedule(
        school.settings.digest_weekday, school.settings.digest_time, school.settings.tz
    )


def on_grade_recorded(school: SchoolDeps, envelope: Envelope, ctx: HandlerContext) -> None:
    data = _load(GradeRecorded, envelope)
    now = school.now()
    period = schedule(school).period_for(data["recorded_at"], now)
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
    col = ctx.db[GRADES]
    current = col.find_one({"_id": data["grade_id"]}, {"version": 1}, session=ctx.session)
    if current is not None and current["version"] >= version:
        return  # an older correction arriving late changes nothing
    col.replace_one({"_id": data["grade_id"]}, fields, upsert=True, session=ctx.session)


def _student_key(iin: str) -> str:
    # Message ids are shown to admins: a hash names the student without the IIN.
    return hashlib.sha256(iin.encode()).hexdigest()[:16]


def run_digests(school: SchoolDeps, now: dt.datetime | None = None) -> dict[str, int]:
    """Build the digests of the last closed period that are not built yet; answers counts.

    Safe to run often and on several workers: each (subscription, period) is claimed by a
    unique key in the same transaction as its message and charge.
    """
    now = now or school.now()
    moment = schedule(school).last_moment(now)
    if now - moment > school.settings.digest_catch_up:
        return {}  # too late for last week's digest to be news; the next one is on time
    key = digest.period_key(moment)
    complete = f"complete|{key}"
    if school.db[DIGESTS].find_one({"_id": complete}, {"_id": 1}):
        return {}  # every subscription's digest of this period is built: nothing to scan
    done = {d["_id"] for d in school.db[DIGESTS].find({"period": moment}, {"_id": 1})}
    counts: dict[str, int] = {}
    # Subscribed after the moment: their first digest is the next one.
    query = {"kinds": "grades_weekly", "created_at": {"$lte": moment}}
    subs = school.db[SUBSCRIPTIONS].find(query).sort("_id", 1)
    for sub in subs:
        digest_id = f"{sub['_id']}|{key}"
        if digest_id in done:
            continue
        try:
            status = mongo.in_transaction(
                school.db,
                lambda session, sub=sub, d=digest_id: _one_digest(school, session, sub, moment, d),
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
            school.db[DIGESTS].insert_one({"_id": complete, "period": moment, "at": school.now()})
    if counts:
        log.info("weekly digests", extra={"period": key, "counts": counts})
    return counts


def _one_digest(school: SchoolDeps, session, sub: dict, moment: dt.datetime, digest_id: str) -> str:
    db = school.db
    record = {"_id": digest_id, "period": moment, "subscription_id": sub["_id"], "at": school.now()}
    db[DIGESTS].insert_one(record, session=session)  # the claim: a second run stops here
    found = list(
        db[GRADES].find({"student_iin": sub["student_iin"], "period": moment}, session=session)
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
            name = next(map(_first_name, names), None) or sub.get("student_name") or ""
            result = _send_paid(
                school,
                session,
                sub=sub,
                account=account,
                event_id=f"digest:{_student_key(sub['student_iin'])}:{digest.period_key(moment)}",
                kind="grades_weekly",
                params={
                    "student": name,
                    "period": digest.period_label(moment, school.settings.tz),
                    "grades": digest.render_lines(lines),
                },
            )
            status = result.status if result is not None else "same_phone_sent"
            message_id = result.id if result is not None else None
    db[DIGESTS].update_one(
        {"_id": digest_id}, {"$set": {"status": status, "message_id": message_id}}, session=session
    )
    return status
