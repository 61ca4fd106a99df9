"""Attendance corrections: a teacher's mark for a day older than the correction window
(KG_TEACHER_CORRECTION_DAYS: today and yesterday by default) is not written at once; it waits
as a pending correction (usecases/attendance.request_correction) until an operator of the
kindergarten's district approves it (then the mark is written, as the teacher's, with the
approval on it) or rejects it. Every step is audited. A parent's approved month stays final:
a correction for it is refused, as any mark is.
"""

from __future__ import annotations

from pymongo.client_session import ClientSession

from edu_common import mongo, paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.domain import attendance as att
from kindergarten.usecases import attendance, audit, common


def _may_see(principal: Principal, doc: dict) -> bool:
    return (
        common.is_admin(principal)
        or common.is_staff_of(principal, doc["kindergarten_id"])
        or common.is_operator_of(principal, doc["district_id"])
    )


def _load(deps: Deps, principal: Principal, correction_id: str) -> dict:
    doc = deps.db[store.CORRECTIONS].find_one({"_id": correction_id})
    if doc is None or not _may_see(principal, doc):
        raise common.not_found("correction")
    return doc


def get(deps: Deps, principal: Principal, correction_id: str) -> dict:
    return attendance.correction_view(_load(deps, principal, correction_id))


def list_corrections(deps: Deps, principal: Principal, args: dict) -> dict:
    """Pending (or decided) corrections, oldest first: a kindergarten's for its staff, a
    district's for its operators (all of it, or one kindergarten), any for admins."""
    query: dict = {"status": args["status"]}
    kg_id = args.get("kindergarten_id")
    if kg_id:
        kg = common.kindergarten(deps, kg_id)
        if not _may_see(principal, {"kindergarten_id": kg_id, "district_id": kg["district_id"]}):
            raise common.forbidden("Only its staff and its district's operators see these.")
        query["kindergarten_id"] = kg_id
    elif common.OPERATOR in principal.roles and principal.organization_id:
        query["district_id"] = principal.organization_id
    elif common.STAFF in principal.roles and principal.organization_id:
        query["kindergarten_id"] = principal.organization_id
    elif not common.is_admin(principal):
        raise common.forbidden("Corrections are for kindergartens' staff and district operators.")
    return paging.keyset_page(
        deps.db[store.CORRECTIONS],
        query,
        field="requested_at",
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=attendance.correction_view,
    )


def _decidable(deps: Deps, principal: Principal, correction_id: str) -> dict:
    doc = _load(deps, principal, correction_id)
    if not common.is_operator_of(principal, doc["district_id"]):
        raise common.forbidden("Only an operator of the kindergarten's district decides.")
    if doc["status"] != att.CORRECTION_PENDING:
        raise Problem(409, "correction_decided", "This correction is decided already.")
    return doc


def approve(
    deps: Deps, principal: Principal, correction_id: str, reason: str | None, client: str | None
) -> dict:
    """The district's operator approves: the mark is written (checked against the sheet as it
    is now) and the correction is approved, in one transaction."""
    doc = _decidable(deps, principal, correction_id)
    enrolment = deps.db[store.ENROLMENTS].find_one({"_id": doc["child_iin"], "active": True})
    if enrolment is None or enrolment["kindergarten_id"] != doc["kindergarten_id"]:
        raise Problem(409, "child_not_enrolled", "The child no longer attends this kindergarten.")
    now = deps.now()
    decided = {
        "status": att.CORRECTION_APPROVED,
        "decided_by": principal.account_id,
        "decided_at": now,
        "decision_reason": reason,
    }

    def also(session: ClientSession, mark: dict) -> None:
        done = deps.db[store.CORRECTIONS].update_one(
            {"_id": doc["_id"], "status": att.CORRECTION_PENDING},
            {"$set": {**decided, "mark_id": mark["_id"]}},
            session=session,
        )
        if not done.modified_count:
            raise Problem(409, "correction_decided", "This correction is decided already.")
        _audit(deps, audit.CORRECTION_APPROVED, principal, doc, client, session, mark["_id"])

    mark = attendance.write_mark(
        deps,
        enrolment,
        direction=doc["direction"],
        at=doc["at"],
        marked_by=att.BY_TEACHER,
        by_name=doc.get("requested_by_name"),
        by_account_id=doc["requested_by"],
        extra={"correction_id": doc["_id"], "approved_by": principal.account_id},
        also=also,
    )
    return attendance.correction_view({**doc, **decided, "mark_id": mark["_id"]})


def reject(
    deps: Deps, principal: Principal, correction_id: str, reason: str | None, client: str | None
) -> dict:
    doc = _decidable(deps, principal, correction_id)
    if not reason:
        raise Problem(422, "decision_reason_required", "Say why it is rejected.", field="reason")
    decided = {
        "status": att.CORRECTION_REJECTED,
        "decided_by": principal.account_id,
        "decided_at": deps.now(),
        "decision_reason": reason,
    }

    def run(session: ClientSession) -> None:
        done = deps.db[store.CORRECTIONS].update_one(
            {"_id": doc["_id"], "status": att.CORRECTION_PENDING},
            {"$set": decided},
            session=session,
        )
        if not done.modified_count:
            raise Problem(409, "correction_decided", "This correction is decided already.")
        _audit(deps, audit.CORRECTION_REJECTED, principal, doc, client, session, None)

    mongo.in_transaction(deps.db, run)
    return attendance.correction_view({**doc, **decided})


def _audit(deps, kind, principal, doc, client, session, mark_id) -> None:
    audit.record(
        deps,
        kind,
        at=deps.now(),
        account_id=principal.account_id,
        kindergarten_id=doc["kindergarten_id"],
        child_iin=doc["child_iin"],
        client=client,
        session=session,
        correction_id=doc["_id"],
        requested_by=doc["requested_by"],
        mark_id=mark_id,
    )
