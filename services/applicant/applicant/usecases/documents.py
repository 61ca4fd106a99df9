"""Documents of an application (education document with its grade sheet, 3x4 photo, medical
certificate 075-U or 031-U, quota proofs) and the first-choice college's review of them."""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo.client_session import ClientSession

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import lifecycle as lc
from applicant.usecases import applications, common, results
from edu_common import mongo, outbox
from edu_common.files import Upload, check
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


def upload(deps: Deps, p: Principal, app_id: str, kind: str, quota: str | None,
           up: Upload) -> dict:  # fmt: skip
    app = applications.load_own(deps, p, app_id)
    if app["status"] not in lc.UPLOADS_ALLOWED:
        raise Problem(
            409,
            "documents_locked",
            "Documents are uploaded to a draft, or again after the college returned them.",
        )
    if kind == lc.QUOTA_PROOF:
        if quota not in app["quota_claims"]:
            raise Problem(
                422, "quota_not_claimed", "Name one of the quotas you claim.", field="quota"
            )
    elif quota:
        raise Problem(422, "quota_not_expected", "Only a quota proof names a quota.", field="quota")
    real = check(up, deps.settings.document_max_bytes)
    doc_id = uuid.uuid4().hex
    stored = deps.files.put(up, real, {"application_id": app_id, "document_id": doc_id})
    doc = {
        "_id": doc_id,
        "application_id": app_id,
        "kind": kind,
        "quota": quota if kind == lc.QUOTA_PROOF else None,
        **stored,
        "status": lc.DOC_PENDING,
        "reason": None,
        "current": True,
        "uploaded_at": deps.now(),
        "uploaded_by": p.account_id,
    }

    def work(session: ClientSession) -> None:
        deps.db[store.DOCUMENTS].update_many(
            {"application_id": app_id, "kind": kind, "quota": doc["quota"], "current": True},
            {"$set": {"current": False}},
            session=session,
        )
        deps.db[store.DOCUMENTS].insert_one(doc, session=session)

    try:
        mongo.in_transaction(deps.db, work)
    except BaseException:
        deps.files.delete(stored["file_id"])
        raise
    return applications.document_view(doc)


def download(deps: Deps, p: Principal, app_id: str, doc_id: str) -> tuple[str, str, bytes]:
    """Only the applicant and the officers of the chosen colleges; anyone else: 404."""
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id})
    if app is None or not (
        applications.is_own(p, app)
        or (app["status"] != lc.DRAFT and common.officer_org(p) in app["college_ids"])
    ):
        raise common.not_found("document")
    doc = deps.db[store.DOCUMENTS].find_one({"_id": doc_id, "application_id": app_id})
    if doc is None:
        raise common.not_found("document")
    return deps.files.get(doc["file_id"])


def review(deps: Deps, p: Principal, app_id: str, body: dict) -> dict:
    """The first-choice college's officer accepts the documents (for every choice) or returns
    some with a reason each; the applicant uploads those again and resubmits."""
    app = applications.load_visible(deps, p, app_id)
    if not (common.is_admin(p) or common.is_college_officer(p, app["first_college_id"])):
        raise common.forbidden("The officers of the first-choice college review it.")
    if app["status"] != lc.SUBMITTED:
        raise Problem(409, "not_in_review", f"The application is {app['status']}.")
    decision = body["decision"]
    reasons = {k: v.strip() for k, v in (body.get("reasons") or {}).items()}
    docs = applications.current_documents(deps, app_id)
    by_id = {d["_id"]: d for d in docs}
    for doc_id, text in reasons.items():
        if doc_id not in by_id:
            raise Problem(
                422, "document_not_found", "No such current document.", field=f"reasons.{doc_id}"
            )
        if not text:
            raise Problem(422, "reason_required", "Say why.", field=f"reasons.{doc_id}")
    if decision == "returned" and not reasons:
        raise Problem(
            422, "reasons_required", "Name each returned document with a reason.", field="reasons"
        )
    if decision == "accepted" and reasons:
        raise Problem(
            422, "reasons_unexpected", "Reasons go with returned documents.", field="reasons"
        )
    college = common.college(deps, app["first_college_id"])
    now = deps.now()

    def work(session: ClientSession) -> dict:
        action = lc.ACCEPT if decision == "accepted" else lc.RETURN_DOCUMENTS
        to = lc.move(app["status"], action)
        changes = {
            "status": to,
            "review": {
                "decision": decision,
                "by": p.account_id,
                "college_id": college["_id"],
                "at": now,
                "reasons": reasons,
            },
        }
        if to == lc.ACCEPTED:
            changes["accepted_at"] = now
        done = deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id, "status": lc.SUBMITTED}, {"$set": changes}, session=session
        )
        if not done.modified_count:
            raise Problem(409, "not_in_review", "The application changed meanwhile.")
        results.refresh_key(deps, app_id, session)
        for d in docs:
            returned = d["_id"] in reasons
            deps.db[store.DOCUMENTS].update_one(
                {"_id": d["_id"]},
                {
                    "$set": {
                        "status": lc.DOC_RETURNED if returned else lc.DOC_ACCEPTED,
                        "reason": reasons.get(d["_id"]),
                    }
                },
                session=session,
            )
        if to == lc.ACCEPTED:
            outbox.emit(deps.db, session, events.ACCEPTED,
                        {**common.whose(app), **common.college_names(college)})  # fmt: skip
        else:
            outbox.emit(
                deps.db,
                session,
                events.DOCUMENTS_RETURNED,
                {
                    **common.whose(app),
                    **common.college_names(college),
                    "returned_kinds": sorted({by_id[i]["kind"] for i in reasons}),
                },
            )
        app.update(changes)
        return app

    return applications.view(deps, mongo.in_transaction(deps.db, work))


def sweep_orphans(deps: Deps, older_than_hours: int = 1) -> int:
    """Files whose record was never written (the process died between the two)."""
    cutoff = deps.now() - dt.timedelta(hours=older_than_hours)
    return deps.files.orphans(
        cutoff,
        lambda f: deps.db[store.DOCUMENTS].find_one({"file_id": str(f["_id"])}) is not None,
    )
