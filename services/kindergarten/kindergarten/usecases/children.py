"""An enrolled child's escorts, the kindergarten's door code, and the child's attendance.

Who is asking decides everything here (see ``access``): the applying parent manages escorts and
approves months; an escort marks the child in and out with the door code; the group's teacher
marks too; the kindergarten's staff see their own children. Anyone else learns nothing: 404.

Limits that must hold under concurrent requests are guarded by conditional updates of one
document (a counter, a month sheet), inside the same transaction as the change: two parents'
clicks cannot both add a 5th escort, two doors cannot both mark a child "in".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pymongo.client_session import ClientSession

from edu_common import accounts, mongo, outbox, paging
from edu_common.kz.iin import is_valid_iin, mask_iin
from edu_common.mongo import Index
from edu_common.registry import RegistryError
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import attendance as att
from kindergarten.domain import escorts as esc
from kindergarten.usecases import common

STAFF_ROLE = common.STAFF

# {_id: "<child_iin>:<escort_iin>", child_iin, escort_iin, full_name, phone, kindergarten_id,
#  parent_account_id, is_parent, added_at, added_by}
ESCORTS = "escorts"
# {_id: "child:<iin>" | "escort:<iin>", n}: escorts of a child / children of an escort; the
# conditional $inc on these is what makes the limits hold under concurrent requests.
ESCORT_COUNTS = "escort_counts"
# {_id, child_iin, kindergarten_id, group_id, month: "YYYY-MM", day: "YYYY-MM-DD", direction,
#  at, marked_by: escort|teacher, by_account_id, by_name, created_at}
ATTENDANCE = "attendance"
# {_id: "<child_iin>:<YYYY-MM>", child_iin, month, approved_at, approved_by, days: {"DD": n}}
# days counts the marks per day: a mark is written only if the count it read is unchanged.
ATTENDANCE_MONTHS = "attendance_months"

INDEXES = [
    Index(ESCORTS, [("child_iin", 1), ("added_at", 1)], name="escorts_by_child"),
    Index(ESCORTS, [("escort_iin", 1), ("added_at", 1)], name="escorts_by_escort"),
    Index(ATTENDANCE, [("child_iin", 1), ("at", 1)], name="attendance_by_child"),
    Index(ATTENDANCE, [("kindergarten_id", 1), ("day", 1)], name="attendance_by_kindergarten"),
]


# --- who is asking ------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    enrolment: dict
    account: dict
    is_parent: bool
    is_staff: bool  # staff of the child's kindergarten
    is_teacher: bool  # ... and a teacher of the child's group
    escort: dict | None  # the caller's escort record for this child


def caller_account(deps: Deps, principal: Principal) -> dict:
    """The caller's account from the local copy (409 account_not_synced until it arrives)."""
    return common.account_of(deps, principal)


def is_staff_of(principal: Principal, kindergarten_id: str) -> bool:
    return common.is_staff_of(principal, kindergarten_id)


def _not_found() -> Problem:
    return Problem(404, "child_not_found", "No enrolled child with this IIN is yours to see.")


def access(deps: Deps, principal: Principal, child_iin: str) -> Access:
    """How the caller relates to the enrolled child; 404 when not at all."""
    account = caller_account(deps, principal)
    if not is_valid_iin(child_iin):
        raise _not_found()
    enrolment = deps.db[store.ENROLMENTS].find_one({"_id": child_iin, "active": True})
    if enrolment is None:
        raise _not_found()
    is_parent = enrolment.get("parent_account_id") == principal.account_id
    is_staff = is_staff_of(principal, enrolment["kindergarten_id"])
    is_teacher = False
    if is_staff:
        group = deps.db[store.GROUPS].find_one({"_id": enrolment.get("group_id")}) or {}
        is_teacher = principal.account_id in (group.get("teacher_ids") or [])
    escort = None
    if account.get("iin"):
        escort = deps.db[ESCORTS].find_one({"_id": _escort_id(child_iin, account["iin"])})
    if not (is_parent or is_staff or escort):
        raise _not_found()
    return Access(enrolment, account, is_parent, is_staff, is_teacher, escort)


def _forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


# --- pagination ---------------------------------------------------------------------------
def _page(collection, query: dict, limit: int, cursor: str | None, shape) -> dict:
    """Oldest first, by the time an escort was added."""
    try:
        return paging.keyset_page(
            collection, query, field="added_at", limit=limit, cursor=cursor, shape=shape
        )
    except paging.BadCursor:
        raise Problem(
            422, "cursor_invalid", "The cursor is not one we gave.", field="cursor"
        ) from None


# --- escorts ------------------------------------------------------------------------------
def _escort_id(child_iin: str, escort_iin: str) -> str:
    return f"{child_iin}:{escort_iin}"


def _limits(deps: Deps) -> esc.Limits:
    s = deps.settings
    return esc.Limits(
        escorts_per_child=s.escorts_per_child,
        children_per_escort=s.children_per_escort,
        min_age=s.escort_min_age,
    )


def _zone(deps: Deps) -> ZoneInfo:
    return ZoneInfo(deps.settings.timezone)


def _count(deps: Deps, key: str, session: ClientSession | None = None) -> int:
    doc = deps.db[ESCORT_COUNTS].find_one({"_id": key}, session=session)
    return int(doc["n"]) if doc else 0


def _take_slot(deps: Deps, session: ClientSession, key: str, limit: int | None) -> bool:
    """Count one more against ``key``; False when that would pass ``limit`` (None: no limit)."""
    col = deps.db[ESCORT_COUNTS]
    col.update_one({"_id": key}, {"$setOnInsert": {"n": 0}}, upsert=True, session=session)
    query: dict = {"_id": key}
    if limit is not None:
        query["n"] = {"$lt": limit}
    return col.update_one(query, {"$inc": {"n": 1}}, session=session).modified_count == 1


def _free_slot(deps: Deps, session: ClientSession, key: str) -> None:
    deps.db[ESCORT_COUNTS].update_one(
        {"_id": key, "n": {"$gt": 0}}, {"$inc": {"n": -1}}, session=session
    )


def escort_view(doc: dict) -> dict:
    return {
        "iin": doc["escort_iin"],
        "full_name": doc["full_name"],
        "phone": doc["phone"],
        "is_applying_parent": bool(doc.get("is_parent")),
        "added_at": doc["added_at"],
    }


def list_escorts(
    deps: Deps, principal: Principal, child_iin: str, limit: int, cursor: str | None
) -> dict:
    """The parent sees the child's escorts; so do the kindergarten's staff, who hand the child
    over at the door."""
    who = access(deps, principal, child_iin)
    if not (who.is_parent or who.is_staff):
        raise _forbidden("Only the parent who applied manages the child's escorts.")
    return _page(deps.db[ESCORTS], {"child_iin": child_iin}, limit, cursor, escort_view)


def _kindergarten_name(deps: Deps, kindergarten_id: str, session=None) -> str:
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id}, session=session)
    return (kg or {}).get("name") or kindergarten_id


def _is_staff_iin(deps: Deps, iin: str) -> bool:
    return any(STAFF_ROLE in (a.get("roles") or []) for a in accounts.with_iin(deps.db, iin))


def add_escort(deps: Deps, principal: Principal, child_iin: str, body: dict) -> dict:
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise _forbidden("Only the parent who applied adds escorts.")
    enrolment = who.enrolment
    iin = body["iin"]
    if not body.get("phone"):
        # Attaching someone who already escorts another of this parent's children: the phone
        # checked then is taken again (and checked again below).
        known = deps.db[ESCORTS].find_one(
            {"escort_iin": iin, "parent_account_id": principal.account_id}
        )
        if known is None or not known.get("phone"):
            raise Problem(
                422,
                "phone_required",
                "Give the escort's phone: this person escorts none of your children yet.",
                field="phone",
            )
        body = {**body, "phone": known["phone"]}
    try:
        person = deps.registry.find_person(iin) if is_valid_iin(iin) else None
        phones = tuple(deps.registry.phones_for(iin)) if person else ()
    except RegistryError as exc:
        raise Problem(
            503,
            "registry_unavailable",
            "The population registry does not answer; try again later.",
            headers={"Retry-After": "30"},
        ) from exc
    registry_name = (
        esc.registry_full_name(person.surname, person.name, person.patronymic) if person else None
    )
    limits = _limits(deps)
    today = deps.now().astimezone(_zone(deps)).date()
    escort_id = _escort_id(child_iin, iin)

    def facts(session=None) -> esc.Candidate:
        return esc.Candidate(
            iin=iin,
            phone=body["phone"],
            full_name=body.get("full_name"),
            child_iin=child_iin,
            today=today,
            registry_full_name=registry_name,
            registry_phones=phones,
            is_applying_parent=iin == enrolment.get("parent_iin"),
            is_staff=_is_staff_iin(deps, iin) if is_valid_iin(iin) else False,
            child_escort_count=_count(deps, f"child:{child_iin}", session),
            escorted_children_count=_count(deps, f"escort:{iin}", session),
        )

    def refuse(refusal: esc.Refusal) -> Problem:
        return Problem(422, refusal.code, refusal.detail, field=refusal.field)

    def run(session: ClientSession) -> dict:
        if deps.db[ESCORTS].find_one({"_id": escort_id}, session=session):
            raise Problem(
                409, "escort_already_added", "This person already escorts the child.", field="iin"
            )
        refusal = esc.refusal_for(facts(session), limits)
        if refusal:
            raise refuse(refusal)
        # The guards: a concurrent addition may have taken the last slot since we counted.
        if not _take_slot(deps, session, f"child:{child_iin}", limits.escorts_per_child):
            raise refuse(esc.refusal_for(_at_limit(facts(), child=True), limits))
        if not _take_slot(deps, session, f"escort:{iin}", limits.children_per_escort):
            raise refuse(esc.refusal_for(_at_limit(facts(), child=False), limits))
        doc = {
            "_id": escort_id,
            "child_iin": child_iin,
            "escort_iin": iin,
            "full_name": registry_name,
            "phone": esc.normalize_phone(body["phone"]),
            "kindergarten_id": enrolment["kindergarten_id"],
            "parent_account_id": enrolment["parent_account_id"],
            "is_parent": iin == enrolment.get("parent_iin"),
            "added_at": deps.now(),
            "added_by": principal.account_id,
        }
        deps.db[ESCORTS].insert_one(doc, session=session)
        outbox.emit(
            deps.db,
            session,
            events.ESCORT_ADDED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "kindergarten_id": enrolment["kindergarten_id"],
                "kindergarten_name": _kindergarten_name(
                    deps, enrolment["kindergarten_id"], session
                ),
                "parent_account_id": enrolment["parent_account_id"],
                "escort_iin_masked": mask_iin(iin),
                "escort_full_name": registry_name,
                "escort_phone": doc["phone"],
            },
        )
        return doc

    return escort_view(mongo.in_transaction(deps.db, run))


def _at_limit(c: esc.Candidate, *, child: bool) -> esc.Candidate:
    """The facts as a concurrent request left them: the guarded count at its limit."""
    big = 1 << 30
    if child:
        return dataclasses.replace(c, child_escort_count=big)
    return dataclasses.replace(c, escorted_children_count=big)


def remove_escort(deps: Deps, principal: Principal, child_iin: str, escort_iin: str) -> None:
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise _forbidden("Only the parent who applied removes escorts.")
    enrolment = who.enrolment

    def run(session: ClientSession) -> None:
        doc = deps.db[ESCORTS].find_one({"_id": _escort_id(child_iin, escort_iin)}, session=session)
        if doc is None:
            raise Problem(404, "escort_not_found", "This person does not escort the child.")
        if doc.get("is_parent"):
            raise Problem(
                422,
                esc.PARENT_NOT_REMOVABLE,
                "The parent who applied is always the child's escort.",
                field="escort_iin",
            )
        deps.db[ESCORTS].delete_one({"_id": doc["_id"]}, session=session)
        _free_slot(deps, session, f"child:{child_iin}")
        _free_slot(deps, session, f"escort:{escort_iin}")
        outbox.emit(
            deps.db,
            session,
            events.ESCORT_REMOVED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "kindergarten_id": enrolment["kindergarten_id"],
                "parent_account_id": enrolment["parent_account_id"],
                "escort_iin_masked": mask_iin(escort_iin),
            },
        )

    mongo.in_transaction(deps.db, run)


def leave(deps: Deps, principal: Principal, child_iin: str, reason: str) -> None:
    """The kindergarten's staff record that the child has left: the enrolment ends, its
    escorts are released, and the parent is told."""
    who = access(deps, principal, child_iin)
    if not who.is_staff:
        raise _forbidden("Only the kindergarten's staff record that a child has left.")
    enrolment = who.enrolment
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": enrolment["kindergarten_id"]}) or {}

    def run(session: ClientSession) -> None:
        ended = deps.db[store.ENROLMENTS].update_one(
            {"_id": child_iin, "active": True},
            {"$set": {"active": False, "left_at": deps.now(), "left_reason": reason}},
            session=session,
        )
        if not ended.modified_count:
            raise _not_found()
        on_enrolment_ended(deps, session, child_iin)
        outbox.emit(
            deps.db,
            session,
            events.CHILD_LEFT,
            {
                "application_id": enrolment.get("application_id") or "",
                "parent_account_id": enrolment["parent_account_id"],
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "district_id": kg.get("district_id", ""),
                "kindergarten_id": enrolment["kindergarten_id"],
                "kindergarten_name": kg.get("name", ""),
                "reason": reason,
            },
        )

    mongo.in_transaction(deps.db, run)


def on_enrolled(deps: Deps, session: ClientSession, enrolment: dict) -> None:
    """The applying parent becomes the child's first escort (called inside the enrolment's
    transaction). Never refuses: the limits are for people the parent adds, and enrolment
    must not fail on them. Running it twice changes nothing."""
    child_iin = enrolment["child_iin"]
    parent_iin = enrolment.get("parent_iin")
    if not parent_iin:
        return
    escort_id = _escort_id(child_iin, parent_iin)
    if deps.db[ESCORTS].find_one({"_id": escort_id}, session=session):
        return
    account = deps.db[accounts.ACCOUNTS].find_one(
        {"_id": enrolment["parent_account_id"]}, session=session
    )
    full_name = (account or {}).get("full_name")
    phone = (account or {}).get("phone")
    if not full_name or not phone:
        try:
            person = deps.registry.find_person(parent_iin)
        except RegistryError:
            person = None
        if person:
            full_name = full_name or esc.registry_full_name(
                person.surname, person.name, person.patronymic
            )
            phone = phone or (person.phones[0] if person.phones else None)
    deps.db[ESCORTS].insert_one(
        {
            "_id": escort_id,
            "child_iin": child_iin,
            "escort_iin": parent_iin,
            "full_name": full_name or "",
            "phone": phone or "",
            "kindergarten_id": enrolment["kindergarten_id"],
            "parent_account_id": enrolment["parent_account_id"],
            "is_parent": True,
            "added_at": deps.now(),
            "added_by": enrolment["parent_account_id"],
        },
        session=session,
    )
    _take_slot(deps, session, f"child:{child_iin}", None)
    _take_slot(deps, session, f"escort:{parent_iin}", None)


def on_enrolment_ended(deps: Deps, session: ClientSession, child_iin: str) -> None:
    """The child left the kindergarten: its escorts are released (they count towards no one's
    limit any more)."""
    for doc in deps.db[ESCORTS].find({"child_iin": child_iin}, session=session):
        deps.db[ESCORTS].delete_one({"_id": doc["_id"]}, session=session)
        _free_slot(deps, session, f"escort:{doc['escort_iin']}")
    deps.db[ESCORT_COUNTS].delete_one({"_id": f"child:{child_iin}"}, session=session)


def escorted_view(escort: dict, enrolment: dict | None) -> dict:
    enrolment = enrolment or {}
    return {
        "child_iin": escort["child_iin"],
        "child_first_name": enrolment.get("child_first_name"),
        "kindergarten_id": escort["kindergarten_id"],
        "group_id": enrolment.get("group_id"),
        "is_applying_parent": bool(escort.get("is_parent")),
        "added_at": escort["added_at"],
    }


def escorted_children(deps: Deps, principal: Principal, limit: int, cursor: str | None) -> dict:
    """The children the caller may bring and collect."""
    account = caller_account(deps, principal)
    if not account.get("iin"):
        return {"items": [], "next_cursor": None}
    page = _page(deps.db[ESCORTS], {"escort_iin": account["iin"]}, limit, cursor, lambda d: d)
    ids = [d["child_iin"] for d in page["items"]]
    enrolments = {
        e["_id"]: e for e in deps.db[store.ENROLMENTS].find({"_id": {"$in": ids}, "active": True})
    }
    page["items"] = [
        escorted_view(d, enrolments[d["child_iin"]])
        for d in page["items"]
        if d["child_iin"] in enrolments
    ]
    return page


# --- door code ----------------------------------------------------------------------------
def door_code(deps: Deps, principal: Principal, kindergarten_id: str) -> dict:
    """The code the head's screen shows at the door, as a QR; only the kindergarten's staff."""
    if not is_staff_of(principal, kindergarten_id):
        raise _forbidden("Only this kindergarten's staff see its door code.")
    if deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id}, {"_id": 1}) is None:
        raise Problem(404, "kindergarten_not_found", "No such kindergarten.")
    s = deps.settings
    code = att.current_code(
        s.door_code_secret.encode(), kindergarten_id, deps.now(), s.door_code_seconds
    )
    return {
        "kindergarten_id": kindergarten_id,
        "code": code.code,
        "payload": code.payload,
        "valid_from": code.valid_from,
        "valid_until": code.valid_until,
        "refresh_seconds": s.door_code_seconds,
    }


# --- attendance ---------------------------------------------------------------------------
def mark_view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "direction": doc["direction"],
        "at": doc["at"],
        "day": doc["day"],
        "marked_by": doc["marked_by"],
        "by_name": doc.get("by_name"),
    }


def _month_id(child_iin: str, month: str) -> str:
    return f"{child_iin}:{month}"


def mark(deps: Deps, principal: Principal, child_iin: str, body: dict) -> dict:
    """An escort at the door (with the door's current code) or the group's teacher marks the
    child in or out. A teacher may record a mark a little late (``at``), never ahead."""
    who = access(deps, principal, child_iin)
    enrolment = who.enrolment
    kg_id = enrolment["kindergarten_id"]
    now = deps.now()
    # A teacher inside needs no door code; a teacher who is also an escort (their own child)
    # may come through the door like any escort.
    if who.is_teacher and not body.get("door_code"):
        marked_by, by_name = "teacher", who.account.get("full_name")
        at = body.get("at") or now
    elif who.escort is not None:
        s = deps.settings
        if not att.code_is_valid(
            s.door_code_secret.encode(),
            kg_id,
            body.get("door_code") or "",
            now,
            s.door_code_seconds,
        ):
            raise Problem(
                422,
                att.DOOR_CODE_INVALID,
                "This is not the door's current code: scan the code on the screen again.",
                field="door_code",
            )
        if body.get("at") is not None:
            raise Problem(
                422, "mark_time_not_allowed", "At the door, a mark is for now.", field="at"
            )
        marked_by, by_name, at = "escort", who.escort.get("full_name"), now
    else:
        raise _forbidden("Only the child's escorts and the group's teacher mark attendance.")
    zone = _zone(deps)
    local = at.astimezone(zone)
    month, day = f"{local:%Y-%m}", f"{local:%Y-%m-%d}"
    direction = body["direction"]

    def run(session: ClientSession) -> dict:
        months = deps.db[ATTENDANCE_MONTHS]
        sheet = months.find_one({"_id": _month_id(child_iin, month)}, session=session) or {}
        refusal = att.mark_time_refusal(at, now, approved=sheet.get("approved_at") is not None)
        if refusal == att.IN_FUTURE:
            raise Problem(422, refusal, "A mark cannot be in the future.", field="at")
        if refusal == att.MONTH_APPROVED:
            raise Problem(409, refusal, "The parent has approved this month's sheet.")
        start = dt.datetime.combine(local.date(), dt.time(), zone)
        same_day = list(
            deps.db[ATTENDANCE].find(
                {"child_iin": child_iin, "at": {"$gte": start, "$lt": start + dt.timedelta(1)}},
                session=session,
            )
        )
        refusal = att.sequence_refusal([(m["at"], m["direction"]) for m in same_day], direction, at)
        if refusal == att.ALREADY_IN:
            raise Problem(409, refusal, "The child is already marked in.")
        if refusal == att.NOT_IN:
            raise Problem(409, refusal, "The child is not marked in.")
        # The guard: the day's count must still be what we read, and the month not approved.
        dd = f"{local:%d}"
        guard = {"_id": _month_id(child_iin, month), "approved_at": None}
        guard[f"days.{dd}"] = len(same_day) if same_day else {"$exists": False}
        months.update_one(
            {"_id": _month_id(child_iin, month)},
            {"$setOnInsert": {"child_iin": child_iin, "month": month, "approved_at": None}},
            upsert=True,
            session=session,
        )
        if not months.update_one(
            guard, {"$inc": {f"days.{dd}": 1}}, session=session
        ).modified_count:
            raise Problem(
                409,
                "attendance_changed",
                "Someone marked the child at the same moment; look again.",
                headers={"Retry-After": "1"},
            )
        doc = {
            "_id": uuid.uuid4().hex,
            "child_iin": child_iin,
            "kindergarten_id": kg_id,
            "group_id": enrolment.get("group_id"),
            "month": month,
            "day": day,
            "direction": direction,
            "at": at,
            "marked_by": marked_by,
            "by_account_id": principal.account_id,
            "by_name": by_name,
            "created_at": now,
        }
        deps.db[ATTENDANCE].insert_one(doc, session=session)
        outbox.emit(
            deps.db,
            session,
            events.ATTENDANCE_MARKED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "kindergarten_id": kg_id,
                "kindergarten_name": _kindergarten_name(deps, kg_id, session),
                "parent_account_id": enrolment["parent_account_id"],
                "direction": direction,
                "at": at,
                "marked_by": marked_by,
            },
        )
        return doc

    return mark_view(mongo.in_transaction(deps.db, run))


def kindergarten_day(
    deps: Deps,
    principal: Principal,
    kindergarten_id: str,
    day: str | None,
    limit: int,
    cursor: str | None,
) -> dict:
    """A day's marks at the kindergarten, for its staff: who came, who left, who is inside."""
    if not is_staff_of(principal, kindergarten_id):
        raise _forbidden("Only this kindergarten's staff see its attendance.")
    day = day or f"{deps.now().astimezone(_zone(deps)):%Y-%m-%d}"
    query = (
        deps.db[ATTENDANCE]
        .find({"kindergarten_id": kindergarten_id, "day": day})
        .sort([("at", 1), ("_id", 1)])
    )
    found = common.page(query, limit, cursor)
    ids = list({m["child_iin"] for m in found["items"]})
    names = {
        e["_id"]: e.get("child_first_name")
        for e in deps.db[store.ENROLMENTS].find({"_id": {"$in": ids}}, {"child_first_name": 1})
    }
    found["items"] = [
        {**mark_view(m), "child_iin": m["child_iin"], "child_first_name": names.get(m["child_iin"])}
        for m in found["items"]
    ]
    return {"day": day, **found}


def _check_month(month: str) -> None:
    if att.parse_month(month) is None:
        raise Problem(422, att.MONTH_INVALID, "A month is written YYYY-MM.", field="month")


def sheet(deps: Deps, principal: Principal, child_iin: str, month: str | None) -> dict:
    """The month's attendance sheet, for the parent and the kindergarten's staff."""
    who = access(deps, principal, child_iin)
    if not (who.is_parent or who.is_staff):
        raise _forbidden("The attendance sheet is for the parent and the kindergarten.")
    zone = _zone(deps)
    month = month or f"{deps.now().astimezone(zone):%Y-%m}"
    _check_month(month)
    return _sheet(deps, child_iin, month)


def _sheet(deps: Deps, child_iin: str, month: str, session=None) -> dict:
    doc = deps.db[ATTENDANCE_MONTHS].find_one({"_id": _month_id(child_iin, month)}, session=session)
    marks = list(
        deps.db[ATTENDANCE]
        .find({"child_iin": child_iin, "month": month}, session=session)
        .sort([("at", 1), ("_id", 1)])
    )
    days: dict[str, list[dict]] = {}
    for m in marks:
        days.setdefault(m["day"], []).append(mark_view(m))
    return {
        "month": month,
        "approved": bool(doc and doc.get("approved_at")),
        "approved_at": (doc or {}).get("approved_at"),
        "days_present": len(days),
        "days": [
            {"day": day, "marks": items, "still_inside": items[-1]["direction"] == "in"}
            for day, items in sorted(days.items())
        ],
    }


def approve(deps: Deps, principal: Principal, child_iin: str, month: str) -> dict:
    """The parent approves a month's sheet; from then on it cannot change."""
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise _forbidden("Only the parent who applied approves the attendance sheet.")
    _check_month(month)
    now = deps.now()
    if att.approval_refusal(month, now, _zone(deps)) == att.MONTH_IN_FUTURE:
        raise Problem(
            422, att.MONTH_IN_FUTURE, "A month can be approved once it has begun.", field="month"
        )

    def run(session: ClientSession) -> dict:
        months = deps.db[ATTENDANCE_MONTHS]
        months.update_one(
            {"_id": _month_id(child_iin, month)},
            {"$setOnInsert": {"child_iin": child_iin, "month": month, "approved_at": None}},
            upsert=True,
            session=session,
        )
        done = months.update_one(
            {"_id": _month_id(child_iin, month), "approved_at": None},
            {"$set": {"approved_at": now, "approved_by": principal.account_id}},
            session=session,
        )
        if not done.modified_count:
            raise Problem(409, "month_already_approved", "This month is approved already.")
        return _sheet(deps, child_iin, month, session)

    return mongo.in_transaction(deps.db, run)


def child_view(deps: Deps, principal: Principal, child_iin: str) -> dict:
    """The enrolled child as the caller may see it."""
    who = access(deps, principal, child_iin)
    e = who.enrolment
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": e["kindergarten_id"]}) or {}
    group = deps.db[store.GROUPS].find_one({"_id": e.get("group_id")}) or {}
    relation = (
        "parent"
        if who.is_parent
        else "teacher"
        if who.is_teacher
        else "staff"
        if who.is_staff
        else "escort"
    )
    return {
        "child_iin": child_iin,
        "child_first_name": e.get("child_first_name"),
        "kindergarten_id": e["kindergarten_id"],
        "kindergarten_name": kg.get("name"),
        "group_id": e.get("group_id"),
        "group_name": group.get("name"),
        "enrolled_at": e.get("enrolled_at"),
        "relation": relation,
    }
