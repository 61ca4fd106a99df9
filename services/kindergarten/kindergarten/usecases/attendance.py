"""Attendance: an escort at the door (with the door's code) or the group's teacher marks the
child in and out; the parent approves each month's sheet, after which it cannot change.

Two doors cannot both mark a child "in": a mark is written only if the day's count of marks on
the month's sheet is still what the use case read, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pymongo.client_session import ClientSession

from edu_common import mongo, outbox, paging
from edu_common.kz.iin import mask_iin
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import attendance as att
from kindergarten.usecases import audit, common, door
from kindergarten.usecases.enrolment import access, kindergarten_name


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


@dataclass(frozen=True)
class Marked:
    """What a mark request did: wrote the mark, or (a teacher's mark older than the correction
    window) asked the district's operator to approve it."""

    mark: dict | None = None
    correction: dict | None = None


def mark(
    deps: Deps, principal: Principal, child_iin: str, body: dict, client: str | None = None
) -> Marked:
    """An escort at the door (with the door's current code) or the group's teacher marks the
    child in or out. A teacher may record a mark late (``at``: today or within the correction
    window before, in local days), never ahead; an older one becomes a pending correction the
    district's operator approves (usecases/corrections.py)."""
    who = access(deps, principal, child_iin)
    enrolment = who.enrolment
    kg_id = enrolment["kindergarten_id"]
    now = deps.now()
    # A teacher inside needs no door code; a teacher who is also an escort (their own child)
    # may come through the door like any escort.
    if who.is_teacher and not body.get("door_code"):
        marked_by, by_name = att.BY_TEACHER, who.account.get("full_name")
        at = body.get("at") or now
        if at <= now and not att.within_correction_window(
            at, now, deps.tz, deps.settings.correction_days
        ):
            return Marked(correction=request_correction(deps, principal, who, body, client))
    elif who.escort is not None:
        _check_door_code(deps, principal, kg_id, child_iin, body.get("door_code"), now, client)
        if body.get("at") is not None:
            raise Problem(
                422, "mark_time_not_allowed", "At the door, a mark is for now.", field="at"
            )
        marked_by, by_name, at = att.BY_ESCORT, who.escort.get("full_name"), now
    elif who.unverified_escort:
        raise common.not_verified()
    else:
        raise common.forbidden("Only the child's escorts and the group's teacher mark attendance.")
    return Marked(
        mark=mark_view(
            write_mark(
                deps,
                enrolment,
                direction=body["direction"],
                at=at,
                marked_by=marked_by,
                by_name=by_name,
                by_account_id=principal.account_id,
            )
        )
    )


def _check_door_code(
    deps: Deps,
    principal: Principal,
    kg_id: str,
    child_iin: str,
    given: str | None,
    now: dt.datetime,
    client: str | None,
) -> None:
    """The door's code, checked only while neither the account nor the child is waiting or
    locked after wrong codes; a wrong one is counted and audited."""
    s = deps.settings
    door.check_attempts(deps, door.attempt_keys(principal.account_id, child_iin), now)
    if att.code_is_valid(s.door_code_secret.encode(), kg_id, given or "", now, s.door_code_seconds):
        door.record_success(deps, principal, child_iin)
        return
    # No code at all is not a guess: refused, not counted.
    headers = door.record_failure(deps, principal, kg_id, child_iin, now, client) if given else {}
    raise Problem(
        422,
        att.DOOR_CODE_INVALID,
        "This is not the door's current code: scan the code on the screen again.",
        field="door_code",
        headers=headers,
    )


def write_mark(
    deps: Deps,
    enrolment: dict,
    *,
    direction: str,
    at: dt.datetime,
    marked_by: str,
    by_name: str | None,
    by_account_id: str,
    extra: dict | None = None,
    also: Callable[[ClientSession, dict], None] | None = None,
) -> dict:
    """Write one mark, with its event, in one transaction after the month and sequence
    checks; ``extra`` fields go on the mark, ``also(session, mark)`` runs in the same
    transaction (an approved correction's own update)."""
    child_iin = enrolment["child_iin"]
    kg_id = enrolment["kindergarten_id"]
    now = deps.now()
    local = at.astimezone(deps.tz)
    month, day = f"{local:%Y-%m}", f"{local:%Y-%m-%d}"

    def run(session: ClientSession) -> dict:
        months = deps.db[store.ATTENDANCE_MONTHS]
        sheet = months.find_one({"_id": _month_id(child_iin, month)}, session=session) or {}
        refusal = att.mark_time_refusal(at, now, approved=sheet.get("approved_at") is not None)
        if refusal == att.IN_FUTURE:
            raise Problem(422, refusal, "A mark cannot be in the future.", field="at")
        if refusal == att.MONTH_APPROVED:
            raise Problem(409, refusal, "The parent has approved this month's sheet.")
        same_day = _day_marks(deps, child_iin, local, session)
        _check_sequence(same_day, direction, at)
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
            "by_account_id": by_account_id,
            "by_name": by_name,
            "created_at": now,
        }
        doc.update(extra or {})
        deps.db[store.ATTENDANCE].insert_one(doc, session=session)
        if also is not None:
            also(session, doc)
        outbox.emit(
            deps.db,
            session,
            events.ATTENDANCE_MARKED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "kindergarten_id": kg_id,
                "kindergarten_name": kindergarten_name(deps, kg_id, session),
                "parent_account_id": enrolment["parent_account_id"],
                "direction": direction,
                "at": at,
                "marked_by": marked_by,
            },
        )
        return doc

    return mongo.in_transaction(deps.db, run)


def _day_marks(deps: Deps, child_iin: str, local: dt.datetime, session=None) -> list[dict]:
    zone = local.tzinfo
    start = dt.datetime.combine(local.date(), dt.time(), zone)
    return list(
        deps.db[store.ATTENDANCE].find(
            {"child_iin": child_iin, "at": {"$gte": start, "$lt": start + dt.timedelta(1)}},
            session=session,
        )
    )


def _check_sequence(same_day: list[dict], direction: str, at: dt.datetime) -> None:
    refusal = att.sequence_refusal([(m["at"], m["direction"]) for m in same_day], direction, at)
    if refusal == att.ALREADY_IN:
        raise Problem(409, refusal, "The child is already marked in.")
    if refusal == att.NOT_IN:
        raise Problem(409, refusal, "The child is not marked in.")


def _check_fits(deps: Deps, enrolment: dict, direction: str, at: dt.datetime) -> None:
    """Whether a mark would be accepted now (month open, in sequence), without writing it: a
    correction that could never be approved is refused at once."""
    child_iin = enrolment["child_iin"]
    local = at.astimezone(deps.tz)
    sheet = deps.db[store.ATTENDANCE_MONTHS].find_one(
        {"_id": _month_id(child_iin, f"{local:%Y-%m}")}
    )
    if (sheet or {}).get("approved_at") is not None:
        raise Problem(409, att.MONTH_APPROVED, "The parent has approved this month's sheet.")
    _check_sequence(_day_marks(deps, child_iin, local), direction, at)


def correction_view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "status": doc["status"],
        "child_iin_masked": mask_iin(doc["child_iin"]),
        "child_first_name": doc.get("child_first_name"),
        "kindergarten_id": doc["kindergarten_id"],
        "group_id": doc.get("group_id"),
        "direction": doc["direction"],
        "at": doc["at"],
        "day": doc["day"],
        "reason": doc.get("reason"),
        "requested_by": doc["requested_by"],
        "requested_by_name": doc.get("requested_by_name"),
        "requested_at": doc["requested_at"],
        "decided_by": doc.get("decided_by"),
        "decided_at": doc.get("decided_at"),
        "decision_reason": doc.get("decision_reason"),
        "mark_id": doc.get("mark_id"),
    }


def request_correction(
    deps: Deps, principal: Principal, who, body: dict, client: str | None
) -> dict:
    """A teacher's mark older than the window: kept as a pending correction for the
    operators of the kindergarten's district, audited. It must fit the sheet as it is now and
    say why it comes late."""
    enrolment = who.enrolment
    reason = (body.get("reason") or "").strip()
    if not reason:
        raise Problem(
            422,
            "correction_reason_required",
            "A mark for an earlier day is a correction: say why it comes late.",
            field="reason",
        )
    at = body["at"]
    _check_fits(deps, enrolment, body["direction"], at)
    kg = common.kindergarten(deps, enrolment["kindergarten_id"])
    now = deps.now()
    doc = {
        "_id": uuid.uuid4().hex,
        "child_iin": enrolment["child_iin"],
        "child_first_name": enrolment.get("child_first_name"),
        "kindergarten_id": kg["_id"],
        "district_id": kg["district_id"],
        "group_id": enrolment.get("group_id"),
        "direction": body["direction"],
        "at": at,
        "day": f"{at.astimezone(deps.tz):%Y-%m-%d}",
        "reason": reason,
        "status": att.CORRECTION_PENDING,
        "requested_by": principal.account_id,
        "requested_by_name": who.account.get("full_name"),
        "requested_at": now,
    }

    def run(session: ClientSession) -> None:
        deps.db[store.CORRECTIONS].insert_one(doc, session=session)
        audit.record(
            deps,
            audit.CORRECTION_REQUESTED,
            at=now,
            account_id=principal.account_id,
            kindergarten_id=kg["_id"],
            child_iin=enrolment["child_iin"],
            client=client,
            session=session,
            correction_id=doc["_id"],
            direction=doc["direction"],
            day=doc["day"],
        )

    mongo.in_transaction(deps.db, run)
    return correction_view(doc)


def kindergarten_day(
    deps: Deps,
    principal: Principal,
    kindergarten_id: str,
    day: str | None,
    limit: int,
    cursor: str | None,
) -> dict:
    """A day's marks at the kindergarten, for its staff: who came, who left, who is inside."""
    if not common.is_staff_of(principal, kindergarten_id):
        raise common.forbidden("Only this kindergarten's staff see its attendance.")
    day = day or f"{deps.now().astimezone(deps.tz):%Y-%m-%d}"
    found = paging.keyset_page(
        deps.db[store.ATTENDANCE],
        {"kindergarten_id": kindergarten_id, "day": day},
        field="at",
        limit=limit,
        cursor=cursor,
    )
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
        raise common.forbidden("The attendance sheet is for the parent and the kindergarten.")
    zone = deps.tz
    month = month or f"{deps.now().astimezone(zone):%Y-%m}"
    _check_month(month)
    return _sheet(deps, child_iin, month)


def _sheet(deps: Deps, child_iin: str, month: str, session=None) -> dict:
    doc = deps.db[store.ATTENDANCE_MONTHS].find_one(
        {"_id": _month_id(child_iin, month)}, session=session
    )
    marks = list(
        deps.db[store.ATTENDANCE]
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
            {"day": day, "marks": items, "still_inside": items[-1]["direction"] == att.IN}
            for day, items in sorted(days.items())
        ],
    }


def approve(deps: Deps, principal: Principal, child_iin: str, month: str) -> dict:
    """The parent approves a month's sheet; from then on it cannot change."""
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise common.forbidden("Only the parent who applied approves the attendance sheet.")
    _check_month(month)
    now = deps.now()
    if att.approval_refusal(month, now, deps.tz) == att.MONTH_IN_FUTURE:
        raise Problem(
            422, att.MONTH_IN_FUTURE, "A month can be approved once it has begun.", field="month"
        )

    def run(session: ClientSession) -> dict:
        months = deps.db[store.ATTENDANCE_MONTHS]
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
