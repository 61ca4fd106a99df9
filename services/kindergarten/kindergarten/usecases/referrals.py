"""Referrals (направление / жолдама): confirm within 2 business days, enrol within 5, extend
once by up to 30 calendar days, decline, lapse onto the stop list."""

from __future__ import annotations

import datetime as dt

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from edu_common import mongo, outbox
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.usecases import applications, common, places

OPEN = ("offered", "confirmed")


def view(ref: dict) -> dict:
    return {
        "id": ref["_id"],
        "application_id": ref["application_id"],
        "place_id": ref["place_id"],
        "kindergarten_id": ref["kindergarten_id"],
        "kindergarten_name": ref["kindergarten_name"],
        "group_id": ref["group_id"],
        "birth_year": ref.get("birth_year"),
        "child_first_name": ref.get("child_first_name"),
        "status": ref["status"],
        "via": ref.get("via"),
        "offered_at": ref["offered_at"],
        "confirm_by": ref.get("confirm_by"),
        "confirmed_at": ref.get("confirmed_at"),
        "enrol_by": ref.get("enrol_by"),
        "extended": ref.get("extended", False),
        "closed_at": ref.get("closed_at"),
    }


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
    return view(load_visible(deps, p, ref_id))


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
    cur = deps.db[store.REFERRALS].find(flt).sort([("offered_at", -1), ("_id", 1)])
    got = common.page(cur, args["limit"], args.get("cursor"))
    return {"items": [view(r) for r in got["items"]], "next_cursor": got["next_cursor"]}


def _app(deps: Deps, session: ClientSession, ref: dict) -> dict:
    return deps.db[store.APPLICATIONS].find_one({"_id": ref["application_id"]}, session=session)


def _transition(
    deps: Deps, session: ClientSession, ref: dict, allowed: tuple, changes: dict
) -> dict:
    """Move the referral on only from a state in ``allowed``; a concurrent change loses."""
    done = deps.db[store.REFERRALS].update_one(
        {"_id": ref["_id"], "status": {"$in": list(allowed)}}, {"$set": changes}, session=session
    )
    if not done.modified_count:
        raise Problem(409, "referral_state", "The referral is no longer in a state for this.")
    return {**ref, **changes}


def _free_place(deps: Deps, session: ClientSession, ref: dict) -> None:
    deps.db[store.PLACES].update_one(
        {"_id": ref["place_id"], "referral_id": ref["_id"]},
        {"$set": {"status": "vacant", "referral_id": None}},
        session=session,
    )


# --- the parent ---------------------------------------------------------------------------
def confirm(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = _as_parent(deps, p, ref_id)
    now = deps.now()
    if ref["status"] == "offered" and now > ref["confirm_by"]:
        raise Problem(409, "referral_lapsed", "The time to confirm has passed.")

    def work(session: ClientSession) -> dict:
        enrol_by = common.calendar(deps).deadline(now, deps.settings.enrol_business_days)
        done = _transition(
            deps,
            session,
            ref,
            ("offered",),
            {"status": "confirmed", "confirmed_at": now, "enrol_by": enrol_by},
        )
        app = _app(deps, session, ref)
        outbox.emit(
            deps.db,
            session,
            events.REFERRAL_CONFIRMED,
            {**places.referral_event(done, app), "enrol_by": enrol_by},
        )
        return done

    return view(mongo.in_transaction(deps.db, work))


def decline(deps: Deps, p: Principal, ref_id: str) -> dict:
    """Refusing a referral removes the child from the queue (DOMAIN); the place moves on."""
    ref = _as_parent(deps, p, ref_id)

    def work(session: ClientSession) -> dict:
        now = deps.now()
        done = _transition(deps, session, ref, OPEN, {"status": "declined", "closed_at": now})
        _free_place(deps, session, ref)
        app = _app(deps, session, ref)
        outbox.emit(deps.db, session, events.REFERRAL_DECLINED, places.referral_event(done, app))
        applications.close(deps, session, app, "declined")
        return done

    done = mongo.in_transaction(deps.db, work)
    places.reoffer(deps, ref["place_id"])
    return view(done)


def cancel_open_referral(deps: Deps, session: ClientSession, app: dict, status: str) -> list:
    """A withdrawn application gives back the place its open referral held."""
    ref = deps.db[store.REFERRALS].find_one(
        {"application_id": app["_id"], "status": {"$in": list(OPEN)}}, session=session
    )
    if ref is None:
        return []
    done = _transition(deps, session, ref, OPEN, {"status": status, "closed_at": deps.now()})
    _free_place(deps, session, ref)
    outbox.emit(deps.db, session, events.REFERRAL_DECLINED, places.referral_event(done, app))
    return [ref["place_id"]]


# --- the parent or the kindergarten --------------------------------------------------------
def extend(deps: Deps, p: Principal, ref_id: str, days: int) -> dict:
    ref = load_visible(deps, p, ref_id)
    if not (
        ref["parent_account_id"] == p.account_id or common.is_staff_of(p, ref["kindergarten_id"])
    ):
        raise Problem(403, "forbidden", "The parent or the kindergarten may extend a referral.")
    limit = deps.settings.extend_max_days
    if not 1 <= days <= limit:
        raise Problem(422, "extend_days", f"Extend by 1 to {limit} days.", field="days")
    if ref["status"] != "confirmed":
        raise Problem(409, "referral_state", "Only a confirmed referral can be extended.")
    if ref.get("extended"):
        raise Problem(409, "already_extended", "A referral can be extended only once.")

    def work(session: ClientSession) -> dict:
        done = deps.db[store.REFERRALS].find_one_and_update(
            {"_id": ref_id, "status": "confirmed", "extended": False},
            {"$set": {"extended": True, "enrol_by": ref["enrol_by"] + dt.timedelta(days=days)}},
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
                **places.referral_event(done, _app(deps, session, done)),
                "enrol_by": done["enrol_by"],
            },
        )
        return done

    return view(mongo.in_transaction(deps.db, work))


# --- the kindergarten ---------------------------------------------------------------------
def enroll(deps: Deps, p: Principal, ref_id: str) -> dict:
    ref = load_visible(deps, p, ref_id)
    if not (common.is_staff_of(p, ref["kindergarten_id"]) or common.is_admin(p)):
        raise Problem(403, "forbidden", "Only the kindergarten's staff enrol.")
    now = deps.now()
    if ref["status"] == "confirmed" and ref["enrol_by"] < now:
        raise Problem(409, "referral_lapsed", "The time to enrol has passed.")
    if ref["status"] != "confirmed":
        raise Problem(409, "referral_state", "The parent has not confirmed this referral.")

    def work(session: ClientSession) -> dict:
        done = _transition(
            deps, session, ref, ("confirmed",), {"status": "enrolled", "closed_at": now}
        )
        deps.db[store.PLACES].update_one(
            {"_id": ref["place_id"]}, {"$set": {"status": "taken"}}, session=session
        )
        app = _app(deps, session, ref)
        enrolment = {
            "_id": app["child_iin"],
            "child_iin": app["child_iin"],
            "child_first_name": app.get("child_first_name"),
            "kindergarten_id": ref["kindergarten_id"],
            "group_id": ref["group_id"],
            "parent_account_id": app["parent_account_id"],
            "parent_iin": app["parent_iin"],
            "application_id": app["_id"],
            "referral_id": ref["_id"],
            "enrolled_at": now,
            "active": True,
        }
        existing = deps.db[store.ENROLMENTS].find_one({"_id": app["child_iin"]}, session=session)
        if existing and existing.get("active"):
            raise Problem(409, "already_enrolled", "The child is enrolled in a kindergarten.")
        deps.db[store.ENROLMENTS].replace_one(
            {"_id": app["child_iin"]}, enrolment, upsert=True, session=session
        )
        _on_enrolled(deps, session, enrolment)
        outbox.emit(deps.db, session, events.CHILD_ENROLLED, places.referral_event(done, app))
        applications.close(deps, session, app, "enrolled")
        return done

    try:
        return view(mongo.in_transaction(deps.db, work))
    except DuplicateKeyError:
        raise Problem(409, "already_enrolled", "The child is enrolled already.") from None


def _on_enrolled(deps: Deps, session: ClientSession, enrolment: dict) -> None:
    """The applying parent becomes the child's first escort, in this transaction."""
    from kindergarten.usecases import children

    hook = getattr(children, "on_enrolled", None)
    if hook is not None:
        hook(deps, session, enrolment)


# --- sweeps (the worker's periodic tasks) ---------------------------------------------------
def sweep_lapses(deps: Deps) -> int:
    """Referrals not confirmed or not used in time are cancelled; the child goes on the stop
    list and the place to the next in line."""
    now = deps.now()
    due = list(
        deps.db[store.REFERRALS].find(
            {
                "$or": [
                    {"status": "offered", "confirm_by": {"$lt": now}},
                    {"status": "confirmed", "enrol_by": {"$lt": now}},
                ]
            }
        )
    )
    lapsed = 0
    for ref in due:
        if mongo.in_transaction(deps.db, lambda session, ref=ref: _lapse(deps, session, ref, now)):
            lapsed += 1
            places.reoffer(deps, ref["place_id"])
    return lapsed


def _lapse(deps: Deps, session: ClientSession, ref: dict, now: dt.datetime) -> bool:
    done = deps.db[store.REFERRALS].update_one(
        {"_id": ref["_id"], "status": ref["status"]},
        {"$set": {"status": "expired", "closed_at": now}},
        session=session,
    )
    if not done.modified_count:
        return False
    _free_place(deps, session, ref)
    until = now + dt.timedelta(days=deps.settings.stop_list_days)
    deps.db[store.APPLICATIONS].update_one(
        {"_id": ref["application_id"], "referral_id": ref["_id"], "active": True},
        {"$set": {"status": "queued", "referral_id": None, "stop_until": until}},
        session=session,
    )
    app = _app(deps, session, ref)
    outbox.emit(
        deps.db,
        session,
        events.REFERRAL_EXPIRED,
        {**places.referral_event(ref, app), "stop_list_until": until},
    )
    return True


def sweep_reminders(deps: Deps) -> int:
    """One reminder per stage, ``reminder_hours`` before the deadline."""
    now = deps.now()
    soon = now + dt.timedelta(hours=deps.settings.reminder_hours)
    sent = 0
    for stage, status, field in (
        ("confirm", "offered", "confirm_by"),
        ("enrol", "confirmed", "enrol_by"),
    ):
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
                        **places.referral_event(ref, _app(deps, session, ref)),
                        "stage": stage,
                        "deadline": ref[field],
                    },
                )
                return True

            sent += mongo.in_transaction(deps.db, work)
    return sent
