"""The student's state services: a request to the college with its fields and documents, a
deadline in working days from submission, and a status the college's officers move on."""

from __future__ import annotations

import uuid

from pymongo.client_session import ClientSession

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import lifecycle as lc
from applicant.domain import services
from applicant.usecases import common
from edu_common import mongo, outbox, paging
from edu_common.files import Upload, check
from edu_common.kz.iin import mask_iin
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


def student_view(s: dict) -> dict:
    allowed = services.WHILE_ON_LEAVE if s["status"] == services.ON_LEAVE else services.TYPES
    return {
        "id": s["_id"],
        "college_id": s["college_id"],
        "college_name_kk": s["college_name_kk"],
        "college_name_ru": s["college_name_ru"],
        "specialty_code": s["specialty_code"],
        "specialty_name_kk": s["specialty_name_kk"],
        "specialty_name_ru": s["specialty_name_ru"],
        "language": s["language"],
        "study_form": s["study_form"],
        "group": s.get("group"),
        "status": s["status"],
        "enrolled_at": s["enrolled_at"],
        "services": [t for t in services.TYPES if t in allowed],
    }


def my_studies(deps: Deps, p: Principal) -> list[dict]:
    """The cabinet: the student's college, group and study form, and its state services."""
    found = deps.db[store.STUDENTS].find({"account_id": p.account_id}).sort("enrolled_at", -1)
    return [student_view(s) for s in found]


def list_students(deps: Deps, p: Principal, college_id: str, args: dict) -> dict:
    college = common.college(deps, college_id)
    if not common.manages_college(deps, p, college):
        raise common.forbidden("The college's officers see its students.")
    return paging.page(
        deps.db[store.STUDENTS],
        {"college_id": college_id},
        args,
        field="enrolled_at",
        newest_first=True,
        shape=student_view,
    )


def set_group(deps: Deps, p: Principal, student_id: str, body: dict) -> dict:
    s = deps.db[store.STUDENTS].find_one({"_id": student_id})
    if s is None or not common.manages_college(deps, p, common.college(deps, s["college_id"])):
        raise common.not_found("student")
    deps.db[store.STUDENTS].update_one({"_id": student_id}, {"$set": {"group": body["group"]}})
    s["group"] = body["group"]
    return student_view(s)


def view(r: dict) -> dict:
    return {
        "id": r["id"] if "id" in r else r["_id"],
        "type": r["type"],
        "college_id": r["college_id"],
        "student_id": r.get("student_id"),
        "applicant_iin_masked": mask_iin(r["applicant_iin"]),
        "fields": r["fields"],
        "status": r["status"],
        "reason": r.get("reason"),
        "deadline": r["deadline"],
        "overdue": r.get("overdue", False),
        "submitted_at": r["submitted_at"],
        "history": r.get("history", []),
        "documents": r.get("documents", []),
    }


def _event_data(r: dict, college: dict) -> dict:
    return {
        "applicant_account_id": r["account_id"],
        "applicant_iin_masked": mask_iin(r["applicant_iin"]),
        **common.college_names(college),
        "request_id": r["_id"],
        "type": r["type"],
        "status": r["status"],
        "deadline": r["deadline"],
    }


def create(deps: Deps, p: Principal, body: dict) -> dict:
    account = common.account_of(deps, p)
    if not account.get("iin"):
        raise common.forbidden("Only a cabinet with an IIN asks for state services.")
    kind = body["type"]
    student = None
    if kind in services.FOR_ANYONE:
        if not body.get("college_id"):
            raise Problem(422, "college_required", "Name the college.", field="college_id")
        college = common.college(deps, body["college_id"])
    else:
        mine = list(deps.db[store.STUDENTS].find({"account_id": p.account_id}))
        if body.get("college_id"):
            mine = [s for s in mine if s["college_id"] == body["college_id"]]
        mine = [s for s in mine if s["status"] != services.LEFT]
        if not mine:
            raise Problem(
                422,
                "not_a_student",
                "This service is for the college's students.",
                field="college_id",
            )
        student = mine[0]
        if student["status"] == services.ON_LEAVE and kind not in services.WHILE_ON_LEAVE:
            raise Problem(422, "on_academic_leave", "Not while on academic leave.", field="type")
        if kind == services.RETURN_FROM_LEAVE and student["status"] != services.ON_LEAVE:
            raise Problem(
                422, "not_on_academic_leave", "You are not on academic leave.", field="type"
            )
        college = common.college(deps, student["college_id"])
    now = deps.now()
    r = {
        "_id": uuid.uuid4().hex,
        "type": kind,
        "account_id": p.account_id,
        "applicant_iin": account["iin"],
        "college_id": college["_id"],
        "region_id": college["region_id"],
        "student_id": student["_id"] if student else None,
        "fields": body.get("fields") or {},
        "status": lc.REQ_SUBMITTED,
        "reason": None,
        "deadline": deps.calendar.deadline(now, deps.settings.request_deadlines[kind]),
        "overdue": False,
        "submitted_at": now,
        "history": [{"status": lc.REQ_SUBMITTED, "at": now, "by": p.account_id, "reason": None}],
        "documents": [],
    }

    def work(session: ClientSession) -> dict:
        deps.db[store.REQUESTS].insert_one(r, session=session)
        outbox.emit(
            deps.db,
            session,
            events.REQUEST_STATUS_CHANGED,
            {**_event_data(r, college), "previous_status": None, "changed_at": now},
        )
        return r

    return view(mongo.in_transaction(deps.db, work))


def _visible(deps: Deps, p: Principal, request_id: str) -> dict:
    r = deps.db[store.REQUESTS].find_one({"_id": request_id})
    if r is None or not (
        r["account_id"] == p.account_id
        or common.is_college_officer(p, r["college_id"])
        or common.is_admin(p)
    ):
        raise common.not_found("request")
    return r


def get(deps: Deps, p: Principal, request_id: str) -> dict:
    return view(_visible(deps, p, request_id))


def list_for(deps: Deps, p: Principal, args: dict) -> dict:
    org = common.officer_org(p)
    if args.get("college_id"):
        if not (common.is_admin(p) or org == args["college_id"]):
            raise common.forbidden("Officers see their own college's requests.")
        flt: dict = {"college_id": args["college_id"]}
    elif org is not None:
        flt = {"college_id": org}
    else:
        flt = {"account_id": p.account_id}
    for key in ("status", "type"):
        if args.get(key):
            flt[key] = args[key]
    if args.get("overdue") is not None:
        flt["overdue"] = args["overdue"]
    return paging.page(
        deps.db[store.REQUESTS], flt, args, field="submitted_at", newest_first=True, shape=view
    )


def move(deps: Deps, p: Principal, request_id: str, body: dict) -> dict:
    r = _visible(deps, p, request_id)
    if not (common.is_admin(p) or common.is_college_officer(p, r["college_id"])):
        raise common.forbidden("The college's officers move requests on.")
    to = body["status"]
    if not lc.request_move_allowed(r["status"], to):
        raise Problem(
            409, "status_not_allowed", f"A {r['status']} request cannot become {to}.",
            field="status",
        )  # fmt: skip
    reason = (body.get("reason") or "").strip() or None
    if to == lc.REQ_REFUSED and not reason:
        raise Problem(422, "reason_required", "Say why the request is refused.", field="reason")
    college = common.college(deps, r["college_id"])
    now = deps.now()

    def work(session: ClientSession) -> dict:
        entry = {"status": to, "at": now, "by": p.account_id, "reason": reason}
        done = deps.db[store.REQUESTS].update_one(
            {"_id": request_id, "status": r["status"]},
            {"$set": {"status": to, "reason": reason or r.get("reason")},
             "$push": {"history": entry}},
            session=session,
        )  # fmt: skip
        if not done.modified_count:
            raise Problem(409, "request_changed", "The request changed meanwhile.")
        if to == lc.REQ_APPROVED and r["type"] in services.ON_APPROVAL and r.get("student_id"):
            deps.db[store.STUDENTS].update_one(
                {"_id": r["student_id"]},
                {"$set": {"status": services.ON_APPROVAL[r["type"]]}},
                session=session,
            )
        previous = r["status"]
        r.update(status=to, reason=reason or r.get("reason"))
        r["history"] = [*r["history"], entry]
        outbox.emit(
            deps.db,
            session,
            events.REQUEST_STATUS_CHANGED,
            {**_event_data(r, college), "previous_status": previous, "changed_at": now},
        )
        return r

    return view(mongo.in_transaction(deps.db, work))


def attach(deps: Deps, p: Principal, request_id: str, up: Upload) -> dict:
    r = _visible(deps, p, request_id)
    if r["account_id"] != p.account_id:
        raise common.forbidden("The student attaches documents to their own request.")
    if r["status"] not in lc.REQUEST_OPEN:
        raise Problem(409, "request_closed", "The request has been answered.")
    real = check(up, deps.settings.document_max_bytes)
    doc_id = uuid.uuid4().hex
    stored = deps.files.put(up, real, {"request_id": request_id, "document_id": doc_id})
    doc = {
        "_id": doc_id,
        "request_id": request_id,
        "kind": "supporting",
        **stored,
        "status": lc.DOC_PENDING,
        "current": True,
        "uploaded_at": deps.now(),
        "uploaded_by": p.account_id,
    }
    summary = {k: doc[k] for k in ("filename", "content_type", "size", "uploaded_at")}
    summary["id"] = doc_id

    def work(session: ClientSession) -> None:
        deps.db[store.DOCUMENTS].insert_one(doc, session=session)
        deps.db[store.REQUESTS].update_one(
            {"_id": request_id}, {"$push": {"documents": summary}}, session=session
        )

    try:
        mongo.in_transaction(deps.db, work)
    except BaseException:
        deps.files.delete(stored["file_id"])
        raise
    return summary


def download(deps: Deps, p: Principal, request_id: str, doc_id: str) -> tuple[str, str, bytes]:
    _visible(deps, p, request_id)
    doc = deps.db[store.DOCUMENTS].find_one({"_id": doc_id, "request_id": request_id})
    if doc is None:
        raise common.not_found("document")
    return deps.files.get(doc["file_id"])


def sweep_overdue(deps: Deps) -> int:
    """Flag requests past their deadline, once each: the student and the officers are told."""
    flagged = 0
    now = deps.now()
    for r in list(
        deps.db[store.REQUESTS].find(
            {"status": {"$in": list(lc.REQUEST_OPEN)}, "deadline": {"$lt": now},
             "overdue": False}
        )
    ):  # fmt: skip
        college = deps.db[store.COLLEGES].find_one({"_id": r["college_id"]})

        def work(session: ClientSession, r=r, college=college) -> int:
            done = deps.db[store.REQUESTS].update_one(
                {"_id": r["_id"], "overdue": False}, {"$set": {"overdue": True}}, session=session
            )
            if not done.modified_count:
                return 0
            outbox.emit(deps.db, session, events.REQUEST_OVERDUE, _event_data(r, college))
            return 1

        flagged += mongo.in_transaction(deps.db, work)
    return flagged
