"""Appeals of a wave's results: filed by the applicant within N working days of the results
(setting, default 1) with a reason; decided by an officer of the first-choice college or the
region with a reason. A granted appeal may re-score the application: the next wave uses it."""

from __future__ import annotations

import uuid

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import lifecycle as lc
from applicant.domain.scores import from_hundredths, to_hundredths
from applicant.usecases import applications, common, results
from edu_common import mongo, outbox, paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


def view(a: dict) -> dict:
    return {
        "id": a["_id"],
        "application_id": a["application_id"],
        "wave": a["wave"],
        "reason": a["reason"],
        "status": a["status"],
        "decision_reason": a.get("decision_reason"),
        "previous_average": from_hundredths(a.get("previous_score")),
        "new_average": from_hundredths(a.get("new_score")),
        "filed_at": a["filed_at"],
        "decided_at": a.get("decided_at"),
    }


def file(deps: Deps, p: Principal, app_id: str, body: dict) -> dict:
    app = applications.load_own(deps, p, app_id)
    st = results.standing(deps, app)
    if st is None:
        raise Problem(409, "no_results", "An appeal follows the results of a wave.")
    if deps.now() > st.run["appeal_by"]:
        raise Problem(409, "appeal_period_over", "The time to appeal these results has passed.")
    appeal = {
        "_id": uuid.uuid4().hex,
        "application_id": app_id,
        "run_id": st.run["_id"],
        "wave": st.run["wave"],
        "applicant_account_id": p.account_id,
        "college_id": app["first_college_id"],
        "region_id": app["region_id"],
        "reason": body["reason"].strip(),
        "status": lc.APPEAL_OPEN,
        "filed_at": deps.now(),
        "previous_score": app["score"],
    }
    try:
        deps.db[store.APPEALS].insert_one(appeal)
    except DuplicateKeyError:
        raise Problem(409, "appeal_exists", "You appealed these results already.") from None
    return view(appeal)


def _officer_of(deps: Deps, p: Principal, a: dict) -> bool:
    return (
        common.is_admin(p)
        or common.is_college_officer(p, a["college_id"])
        or common.is_region_officer(deps, p, a["region_id"])
    )


def list_for(deps: Deps, p: Principal, args: dict) -> dict:
    org = common.officer_org(p)
    if args.get("application_id"):
        app = applications.load_visible(deps, p, args["application_id"])
        flt: dict = {"application_id": app["_id"]}
    elif org is not None:
        flt = {"$or": [{"college_id": org}, {"region_id": org}]}
    elif common.is_admin(p):
        flt = {}
    else:
        flt = {"applicant_account_id": p.account_id}
    if args.get("status"):
        flt["status"] = args["status"]
    return paging.page(
        deps.db[store.APPEALS], flt, args, field="filed_at", newest_first=True, shape=view
    )


def decide(deps: Deps, p: Principal, appeal_id: str, body: dict) -> dict:
    a = deps.db[store.APPEALS].find_one({"_id": appeal_id})
    if a is None or not (_officer_of(deps, p, a) or a["applicant_account_id"] == p.account_id):
        raise common.not_found("appeal")
    if not _officer_of(deps, p, a):
        raise common.forbidden("Officers decide appeals.")
    if a["status"] != lc.APPEAL_OPEN:
        raise Problem(409, "appeal_decided", "The appeal was decided already.")
    decision = body["decision"]
    new_score = None
    if decision == lc.APPEAL_GRANTED and body.get("certificate_average") is not None:
        s = deps.settings
        if not s.score_min <= body["certificate_average"] <= s.score_max:
            raise Problem(
                422, "certificate_average_out_of_range", "Out of the scale.",
                field="certificate_average",
            )  # fmt: skip
        new_score = to_hundredths(body["certificate_average"])
    elif decision == lc.APPEAL_REJECTED and body.get("certificate_average") is not None:
        raise Problem(
            422, "average_with_rejection", "Only a granted appeal re-scores.",
            field="certificate_average",
        )  # fmt: skip

    def work(session: ClientSession) -> dict:
        changes = {
            "status": decision,
            "decision_reason": body["reason"].strip(),
            "decided_at": deps.now(),
            "decided_by": p.account_id,
            "new_score": new_score,
        }
        done = deps.db[store.APPEALS].update_one(
            {"_id": appeal_id, "status": lc.APPEAL_OPEN}, {"$set": changes}, session=session
        )
        if not done.modified_count:
            raise Problem(409, "appeal_decided", "The appeal was decided already.")
        app = deps.db[store.APPLICATIONS].find_one({"_id": a["application_id"]}, session=session)
        if new_score is not None:
            deps.db[store.APPLICATIONS].update_one(
                {"_id": app["_id"]},
                {"$set": {"score": new_score,
                          "certificate_average": from_hundredths(new_score)}},
                session=session,
            )  # fmt: skip
            app["score"] = new_score
            results.refresh_key(deps, app["_id"], session)
        outbox.emit(
            deps.db,
            session,
            events.APPEAL_DECIDED,
            {
                **common.whose(app),
                "appeal_id": appeal_id,
                "decision": decision,
                "certificate_average": from_hundredths(app["score"]),
            },
        )
        a.update(changes)
        return a

    return view(mongo.in_transaction(deps.db, work))
