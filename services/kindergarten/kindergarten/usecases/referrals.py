"""Referrals (направление / жолдама): confirm within 2 business days, enrol within 5, extend
once by up to 30 calendar days, decline, lapse onto the stop list."""

from __future__ import annotations

import datetime as dt

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from edu_common import mongo, outbox, paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import referral as lifecycle
from kindergarten.domain.application import CloseReason
from kindergarten.domain.application import Status as ApplicationStatus
from kindergarten.domain.place import Status as PlaceStatus
from kindergarten.domain.referral import Status
from kindergarten.usecases import allocation, common, enrolment, records


def _sees(p: Principal, ref: dict) -> bool:
    return (
        ref["parent_account_id"] == p.account_id
        or common.is_staff_of(p, ref["kindergarten_id"])
        or common.is_operator_of(p, ref["district_id"])
        or common.is_admin(p)
    )


def load_visible(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = deps.db[store.REFERRALS].find_one({"_id": ref_id})
    if ref is None or not _sees(p, ref):
        raise common.not_found("referral")
    return ref


def _as_parent(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = load_visible(deps, p, ref_id)
    if ref["parent_account_id"] != p.account_id:
        raise Problem(403, "forbidden", "Only the parent who applied may do this.")
    return ref


def get(deps: Deps, p: Principal, ref_id: str) -> dict:
    return records.referral_view(load_visible(deps, p, ref_id))


def list_for(deps: Deps, p: Principal, args: dict) -> dict:
    kg_id = args.get("kindergarten_id")
    if kg_id:
        kg = common.kindergarten(deps, kg_id)
        if not common.manages_kindergarten(p, kg):
            raise Problem(403, "forbidden", "Only the kindergarten's staff and district see this.")
        flt: dict = {"kindergarten_id": kg_id}
    else:
        flt = {"parent_account_id": p.account_id}
    if args.get("status"):
        flt["status"] = args["status"]
    return paging.keyset_page(
        deps.db[store.REFERRALS],
        flt,
        field="offered_at",
        newest_first=True,
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=records.referral_view,
    )


# --- the parent ---------------------------------------------------------------------------
def confirm(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = _as_parent(deps, p, ref_id)
    now = deps.now()
    if ref["status"] == Status.OFFERED and lifecycle.past_deadline(ref, now):
        raise Problem(409, "referral_lapsed", "The time to confirm has passed.")

    def work(session: ClientSession) -> dict:
        enrol_by = lifecycle.enrol_by(common.calendar(deps), now, deps.settings.enrol_business_days)
        done = records.transition(
            deps, session, ref, lifecycle.CONFIRM, {"confirmed_at": now, "enrol_by": enrol_by}
        )
        app = records.application_of(deps, session, ref)
        outbox.emit(
            deps.db,
            session,
            events.REFERRAL_CONFIRMED,
            {**records.referral_event(done, app), "enrol_by": enrol_by},
        )
        return done

    return records.referral_view(mongo.in_transaction(deps.db, work))


def decline(deps: Deps, p: Principal, ref_id: str) -> dict:
    """Refusing a referral removes the child from the queue (DOMAIN); the place moves on."""
    ref = _as_parent(deps, p, ref_id)

    def work(session: ClientSession) -> dict:
        now = deps.now()
        done = records.transition(deps, session, ref, lifecycle.DECLINE, {"closed_at": now})
        records.free_place(deps, session, ref)
        app = records.application_of(deps, session, ref)
        outbox.emit(deps.db, session, events.REFERRAL_DECLINED, records.referral_event(done, app))
        records.close_application(deps, session, app, CloseReason.DECLINED)
        return done

    done = mongo.in_transaction(deps.db, work)
    allocation.reoffer(deps, ref["place_id"])
    return records.referral_view(done)


# --- the parent or the kindergarten --------------------------------------------------------
def extend(deps: Deps, p: Principal, ref_id: str, days: int) -> dict:
    ref = load_visible(deps, p, ref_id)
    if not (
        ref["parent_account_id"] == p.account_id or common.is_staff_of(p, ref["kindergarten_id"])
    ):
        raise Problem(403, "forbidden", "The parent or the kindergarten may extend a referral.")
    limit = deps.settings.extend_max_days
    refusal = lifecycle.extension_refusal(ref, days, limit)
    if refusal == lifecycle.EXTEND_DAYS:
        raise Problem(422, refusal, f"Extend by 1 to {limit} days.", field="days")
    if refusal == lifecycle.NOT_CONFIRMED:
        raise Problem(409, refusal, "Only a confirmed referral can be extended.")
    if refusal == lifecycle.ALREADY_EXTENDED:
        raise Problem(409, refusal, "A referral can be extended only once.")
    enrol_by = lifecycle.extended_enrol_by(ref, days)

    def work(session: ClientSession) -> dict:
        done = deps.db[store.REFERRALS].find_one_and_update(
            {"_id": ref_id, "status": Status.CONFIRMED, "extended": False},
            {"$set": {"extended": True, "enrol_by": enrol_by}},
            return_document=True,
            session=session,
        )
        if done is None:
            raise Problem(409, "already_extended", "A referral can be extended only once.")
        outbox.emit(
            deps.db,
            session,
            events.REFERRAL_EXTENDED,
            {
                **records.referral_event(done, records.application_of(deps, session, done)),
                "enrol_by": done["enrol_by"],
            },
        )
        return done

    return records.referral_view(mongo.in_transaction(deps.db, work))


# --- the kindergarten ---------------------------------------------------------------------
def enroll(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = load_visible(deps, p, ref_id)
    if not (common.is_staff_of(p, ref["kindergarten_id"]) or common.is_admin(p)):
        raise Problem(403, "forbidden", "Only the kindergarten's staff enrol.")
    now = deps.now()
    if ref["status"] == Status.CONFIRMED and lifecycle.past_deadline(ref, now):
        raise Problem(409, "referral_lapsed", "The time to enrol has passed.")
    if ref["status"] != Status.CONFIRMED:
        raise Problem(409, "referral_state", "The parent has not confirmed this referral.")

    def work(session: ClientSession) -> dict:
        done = records.transition(deps, session, ref, lifecycle.ENROL, {"closed_at": now})
        deps.db[store.PLACES].update_one(
            {"_id": ref["place_id"]}, {"$set": {"status": PlaceStatus.TAKEN}}, session=session
        )
        app = records.application_of(deps, session, ref)
        enrolment.enrol(deps, session, app, ref, now)
        outbox.emit(deps.db, session, events.CHILD_ENROLLED, records.referral_event(done, app))
        records.close_application(deps, session, app, CloseReason.ENROLLED)
        return done

    try:
        return records.referral_view(mongo.in_transaction(deps.db, work))
    except DuplicateKeyError:
        raise Problem(409, "already_enrolled", "The child is enrolled already.") from None


# --- sweeps (the worker's periodic tasks) ---------------------------------------------------
def sweep_lapses(deps: Deps) -> int:
    """Referrals not confirmed or not used in time are cancelled; the child goes on the stop
    list and the place to the next in line."""
    now = deps.now()
    due = list(
        deps.db[store.REFERRALS].find(
            {
                "$or": [
                    {"status": status, field: {"$lt": now}}
                    for status, field in lifecycle.DEADLINE.items()
                ]
            }
        )
    )
    lapsed = 0
    for ref in due:
        if mongo.in_transaction(deps.db, lambda session, ref=ref: _lapse(deps, session, ref, now)):
            lapsed += 1
            allocation.reoffer(deps, ref["place_id"])
    return lapsed


def _lapse(deps: Deps, session: ClientSession, ref: dict, now: dt.datetime) -> bool:
    if not records.try_transition(
        deps, session, ref, lifecycle.lapse_from(ref["status"]), {"closed_at": now}
    ):
        return False
    records.free_place(deps, session, ref)
    until = now + dt.timedelta(days=deps.settings.stop_list_days)
    deps.db[store.APPLICATIONS].update_one(
        {"_id": ref["application_id"], "referral_id": ref["_id"], "active": True},
        {
            "$set": {
                "status": ApplicationStatus.QUEUED,
                "referral_id": None,
                "stop_until": until,
            }
        },
        session=session,
    )
    app = records.application_of(deps, session, ref)
    outbox.emit(
        deps.db,
        session,
        events.REFERRAL_EXPIRED,
        {**records.referral_event(ref, app), "stop_list_until": until},
    )
    return True


def sweep_reminders(deps: Deps) -> int:
    """One reminder per stage, ``reminder_hours`` before the deadline."""
    now = deps.now()
    soon = now + dt.timedelta(hours=deps.settings.reminder_hours)
    sent = 0
    for stage, status, field in lifecycle.REMINDERS:
        for ref in deps.db[store.REFERRALS].find(
            {"status": status, field: {"$lte": soon, "$gte": now}, "reminded": {"$ne": stage}}
        ):

            def work(session: ClientSession, ref=ref, stage=stage, field=field) -> bool:
                done = deps.db[store.REFERRALS].update_one(
                    {"_id": ref["_id"], "reminded": {"$ne": stage}},
                    {"$push": {"reminded": stage}},
                    session=session,
                )
                if not done.modified_count:
                    return False
                outbox.emit(
                    deps.db,
                    session,
                    events.REFERRAL_REMINDER,
                    {
                        **records.referral_event(ref, records.application_of(deps, session, ref)),
                        "stage": stage,
                        "deadline": ref[field],
                    },
                )
                return True

            sent += mongo.in_transaction(deps.db, work)
    return sent
