"""After a wave: the allocated applicant confirms enrolment within N working days or
declines; unconfirmed seats lapse (worker sweep) and go to the next wave."""

from __future__ import annotations

from pymongo.client_session import ClientSession

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import lifecycle as lc
from applicant.domain import services
from applicant.usecases import applications, common, results
from edu_common import mongo, outbox
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem

LAPSE_BATCH = 200


def busy(deps: Deps, campaign_id: str, base: str, session=None) -> bool:
    return (
        deps.db[store.RUNS].find_one(
            {"campaign_id": campaign_id, "base_education": base, "busy": True}, session=session
        )
        is not None
    )


def decide(deps: Deps, p: Principal, app_id: str, decision: str) -> dict:
    app = applications.load_own(deps, p, app_id)
    st = results.standing(deps, app)
    if st is None or not st.placed:
        raise Problem(409, "not_allocated", "The application holds no seat to confirm.")
    if busy(deps, app["campaign_id"], app["base_education"]):
        raise Problem(
            409,
            "allocation_running",
            "An allocation wave is running; try again in a minute.",
            headers={"Retry-After": "30"},
        )
    deadline = results.confirm_by(deps, app, st)
    now = deps.now()
    if decision == "confirm" and now > deadline:
        raise Problem(409, "confirmation_lapsed", "The time to confirm has passed.")
    offer = common.offer(deps, st.offer_id)

    def work(session: ClientSession) -> dict:
        action = lc.CONFIRM if decision == "confirm" else lc.DECLINE
        to = lc.move(app["status"], action)
        changes: dict = {"status": to, "decided_at": now}
        if to == lc.ENROLLED:
            changes["enrolment"] = {
                "offer_id": st.offer_id,
                "college_id": offer["college_id"],
                "pool": st.pool,
                "cutoff": st.cutoff,
                "wave": st.since_wave,
                "at": now,
            }
        else:
            changes["active"] = False
            changes["declined_reason"] = lc.DECLINED_BY_APPLICANT
            changes["declined_offer_id"] = st.offer_id
        done = deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id, "status": lc.ACCEPTED}, {"$set": changes}, session=session
        )
        if not done.modified_count:
            raise Problem(409, "application_changed", "The application changed meanwhile.")
        if to == lc.ENROLLED:
            deps.db[store.STUDENTS].insert_one(student_record(app, offer, now), session=session)
            outbox.emit(deps.db, session, events.ENROLLED,
                        {**common.whose(app), **common.offer_names(offer)})  # fmt: skip
        else:
            outbox.emit(
                deps.db,
                session,
                events.DECLINED,
                {**common.whose(app), **common.offer_names(offer),
                 "reason": lc.DECLINED_BY_APPLICANT},
            )  # fmt: skip
        app.update(changes)
        return app

    return applications.view(deps, mongo.in_transaction(deps.db, work))


def student_record(app: dict, offer: dict, now) -> dict:
    return {
        "_id": app["_id"],
        "account_id": app["applicant_account_id"],
        "applicant_iin": app["applicant_iin"],
        "college_id": offer["college_id"],
        "college_name_kk": offer["college_name_kk"],
        "college_name_ru": offer["college_name_ru"],
        "region_id": offer["region_id"],
        "offer_id": offer["_id"],
        "specialty_code": offer["specialty_code"],
        "specialty_name_kk": offer["specialty_name_kk"],
        "specialty_name_ru": offer["specialty_name_ru"],
        "language": offer["language"],
        "study_form": offer["study_form"],
        "base_education": offer["base_education"],
        "year": app["year"],
        "group": None,
        "status": services.STUDYING,
        "enrolled_at": now,
    }


def sweep_lapses(deps: Deps, campaign_id: str | None = None, base: str | None = None) -> int:
    """Seats not confirmed by their wave's deadline lapse: the application is declined
    (``lapsed``) and the seat is free for the next wave."""
    now = deps.now()
    flt: dict = {"status": results.DONE}
    if campaign_id:
        flt.update(campaign_id=campaign_id, base_education=base)
    latest: dict = {}
    for run in deps.db[store.RUNS].find(flt, {"campaign_id": 1, "base_education": 1, "wave": 1}):
        key = (run["campaign_id"], run["base_education"])
        if key not in latest or latest[key]["wave"] < run["wave"]:
            latest[key] = run
    lapsed = 0
    for (camp, track), head in latest.items():
        if campaign_id is None and busy(deps, camp, track):
            continue
        run = deps.db[store.RUNS].find_one({"_id": head["_id"]})
        waves = {
            r["wave"]: r
            for r in deps.db[store.RUNS].find(
                {"campaign_id": camp, "base_education": track, "status": results.DONE}
            )
        }
        due = {w for w, r in waves.items() if r["confirm_by"] < now} - set(
            run.get("lapses_swept") or []
        )
        if not due:
            continue
        candidates = []
        for doc in deps.db[store.PLACEMENTS].find({"run_id": run["_id"]}):
            candidates += [a for a, since in zip(doc["admitted"], doc["since"], strict=True)
                           if since in due]  # fmt: skip
        for i in range(0, len(candidates), LAPSE_BATCH):
            lapsed += _lapse(deps, candidates[i : i + LAPSE_BATCH], run, now)
        deps.db[store.RUNS].update_one(
            {"_id": run["_id"]}, {"$addToSet": {"lapses_swept": {"$each": sorted(due)}}}
        )
    return lapsed


def _lapse(deps: Deps, ids: list[str], run: dict, now) -> int:
    def work(session: ClientSession) -> int:
        apps = list(
            deps.db[store.APPLICATIONS].find(
                {"_id": {"$in": ids}, "status": lc.ACCEPTED}, session=session
            )
        )
        if not apps:
            return 0
        placed = {
            a: d["offer_id"]
            for d in deps.db[store.PLACEMENTS].find(
                {"run_id": run["_id"], "admitted": {"$in": [a["_id"] for a in apps]}},
                {"admitted": 1, "offer_id": 1},
                session=session,
            )
            for a in d["admitted"]
        }
        offers = {
            o["_id"]: o
            for o in deps.db[store.OFFERS].find(
                {"_id": {"$in": list(set(placed.values()))}}, session=session
            )
        }
        deps.db[store.APPLICATIONS].update_many(
            {"_id": {"$in": [a["_id"] for a in apps]}, "status": lc.ACCEPTED},
            {
                "$set": {
                    "status": lc.DECLINED,
                    "active": False,
                    "declined_reason": lc.DECLINED_LAPSED,
                    "decided_at": now,
                }
            },
            session=session,
        )
        for app in apps:
            offer = offers[placed[app["_id"]]]
            deps.db[store.APPLICATIONS].update_one(
                {"_id": app["_id"]}, {"$set": {"declined_offer_id": offer["_id"]}},
                session=session,
            )  # fmt: skip
            outbox.emit(
                deps.db,
                session,
                events.DECLINED,
                {**common.whose(app), **common.offer_names(offer), "reason": lc.DECLINED_LAPSED},
            )
        return len(apps)

    return mongo.in_transaction(deps.db, work)
