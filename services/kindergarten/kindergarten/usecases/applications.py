"""The queue: applying, reading one's place, withdrawing, category decisions, the yearly re-sort."""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from edu_common import accounts, mongo, outbox, paging, registry
from edu_common.kz.iin import IINError, mask_iin, parse_iin
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import application as lifecycle
from kindergarten.domain import queue as q
from kindergarten.domain import rules
from kindergarten.domain.application import CategoryStatus, CloseReason, Status
from kindergarten.usecases import allocation, common, queues, records


def view(deps: Deps, app: dict) -> dict:
    return {
        "id": app["_id"],
        "status": app["status"],
        "queue_number": queues.number(deps.db, app),
        "child_iin_masked": mask_iin(app["child_iin"]),
        "child_first_name": app.get("child_first_name"),
        "birth_year": app["birth_year"],
        "district_id": app["district_id"],
        "kindergarten_ids": app["kindergarten_ids"],
        "language": app["language"],
        "category": app["category"],
        "category_status": app.get("category_status"),
        "queue_category": app["queue_category"],
        "registered_at": app["registered_at"],
        "batch_id": app.get("batch_id"),
        "stop_until": app.get("stop_until"),
        "referral_id": app.get("referral_id"),
        "closed_reason": app.get("closed_reason"),
    }


# --- applying -----------------------------------------------------------------------------
def _child_of(deps: Deps, parent_iin: str, child_iin: str):
    with registry.answering():
        children = deps.registry.children_of(parent_iin)
    for child in children:
        if child.iin == child_iin:
            return child
    return None


def register(deps: Deps, p: Principal, body: dict) -> dict:
    s = deps.settings
    parent = common.require_verified(accounts.require(deps.db, p.account_id))
    child_iin = body["child_iin"]
    try:
        parse_iin(child_iin)
    except IINError as exc:
        raise Problem(422, exc.code, str(exc), field="child_iin") from None
    district = common.district(deps, body["district_id"])
    kg_ids = list(dict.fromkeys(body["kindergarten_ids"]))
    if not 1 <= len(kg_ids) <= s.max_kindergartens:
        raise Problem(
            422,
            "kindergarten_ids_count",
            f"Choose 1 to {s.max_kindergartens} kindergartens.",
            field="kindergarten_ids",
        )
    found = list(
        deps.db[store.KINDERGARTENS].find({"_id": {"$in": kg_ids}, "district_id": district["_id"]})
    )
    if len(found) != len(kg_ids):
        raise Problem(
            422,
            "kindergarten_not_in_district",
            "Every kindergarten chosen must be in the chosen district.",
            field="kindergarten_ids",
        )
    if not parent.get("iin"):
        raise Problem(403, "not_a_parent", "Only a parent of the child may apply.")
    child = _child_of(deps, parent["iin"], child_iin)
    if child is None:
        # The same answer whether the child exists or not: no probing of other families.
        raise Problem(403, "not_a_parent", "Only a parent of the child may apply.")
    today = common.calendar(deps).local_date(deps.now())
    if not rules.may_apply(child.birth_date, today, s.max_child_age_years):
        raise Problem(
            422,
            "child_too_old",
            f"Only children under {s.max_child_age_years} may be put in the queue.",
            field="child_iin",
        )
    category = body["category"]
    status = lifecycle.initial_category_status(category)
    if status is not None and not (body.get("category_reason") or "").strip():
        raise Problem(
            422,
            "category_reason_required",
            "Say why the child belongs to this category.",
            field="category_reason",
        )
    app_id = uuid.uuid4().hex
    qcat = lifecycle.queue_category(category, status)
    key = q.queue_key(district["_id"], child.birth_date.year, qcat)

    def work(session: ClientSession) -> dict:
        now = deps.now()
        ts = q.ts_of(now)
        base = queues.arrive(deps.db, session, key, ts)
        app = {
            "_id": app_id,
            "child_iin": child_iin,
            "child_first_name": child.name,
            "child_birth_date": child.birth_date.isoformat(),
            "birth_year": child.birth_date.year,
            "parent_account_id": p.account_id,
            "parent_iin": parent["iin"],
            "district_id": district["_id"],
            "kindergarten_ids": kg_ids,
            "language": body["language"],
            "category": category,
            "category_reason": body.get("category_reason"),
            "category_status": status,
            "queue_category": qcat,
            "queue_key": key,
            "base": base,
            "extra": False,
            "ts": ts,
            "registered_at": now,
            "status": Status.QUEUED,
            "active": True,
            "batch_id": _batch_for(deps, session, parent["iin"], child_iin, child.birth_date),
            "stop_until": None,
            "referral_id": None,
        }
        deps.db[store.APPLICATIONS].insert_one(app, session=session)
        number = queues.number(deps.db, app, session)
        app["notified_number"] = number
        deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id}, {"$set": {"notified_number": number}}, session=session
        )
        outbox.emit(
            deps.db,
            session,
            events.APPLICATION_REGISTERED,
            {
                **records.about(app),
                "kindergarten_ids": kg_ids,
                "language": app["language"],
                "category": category,
                "birth_year": app["birth_year"],
                "queue_number": number,
                "registered_at": now,
            },
        )
        return app

    try:
        app = mongo.in_transaction(deps.db, work)
    except DuplicateKeyError:
        raise Problem(
            409,
            "application_exists",
            "The child already has an active application.",
            field="child_iin",
        ) from None
    return view(deps, app)


def _batch_for(deps: Deps, session, parent_iin: str, child_iin: str, birth: dt.date) -> str | None:
    """Twins, and children of one family born within a month: one batch, offered together.
    The batch id is shared with the family's active applications of such children."""
    window = deps.settings.batch_window_days
    for other in deps.db[store.APPLICATIONS].find(
        {"parent_iin": parent_iin, "active": True}, session=session
    ):
        other_birth = dt.date.fromisoformat(other["child_birth_date"])
        if other["child_iin"] != child_iin and rules.same_batch(birth, other_birth, window):
            if other.get("batch_id"):
                return other["batch_id"]
            batch_id = f"b-{uuid.uuid4().hex}"
            deps.db[store.APPLICATIONS].update_one(
                {"_id": other["_id"]}, {"$set": {"batch_id": batch_id}}, session=session
            )
            return batch_id
    return None


# --- reading ------------------------------------------------------------------------------
def load_visible(deps: Deps, p: Principal, app_id: str) -> dict:
    """The application if the asker may see it: its parent, its district's operators, admins.
    Anyone else gets the same 404 as for an id that does not exist."""
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id})
    if app is None or not (
        app["parent_account_id"] == p.account_id
        or common.is_operator_of(p, app["district_id"])
        or common.is_admin(p)
    ):
        raise common.not_found("application")
    return app


def get(deps: Deps, p: Principal, app_id: str) -> dict:
    return view(deps, load_visible(deps, p, app_id))


def list_for(deps: Deps, p: Principal, args: dict) -> dict:
    district_id = args.get("district_id")
    if district_id:
        if not (common.is_operator_of(p, district_id) or common.is_admin(p)):
            raise Problem(403, "forbidden", "Only the district's operators see its queue.")
        flt = {"district_id": district_id}
        if args.get("category_status"):
            flt["category_status"] = args["category_status"]
    else:
        flt = {"parent_account_id": p.account_id}
    return paging.keyset_page(
        deps.db[store.APPLICATIONS],
        flt,
        field="registered_at",
        newest_first=True,
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=lambda app: view(deps, app),
    )


# --- leaving the queue --------------------------------------------------------------------
def withdraw(deps: Deps, p: Principal, app_id: str) -> dict:
    """The parent takes the child out of the queue; a place it was offered goes to the next."""
    app = load_visible(deps, p, app_id)
    if app["parent_account_id"] != p.account_id:
        raise Problem(403, "forbidden", "Only the parent who applied may withdraw.")
    if not app["active"]:
        raise Problem(409, "application_closed", "The application has left the queue already.")

    def work(session: ClientSession) -> list[str]:
        current = deps.db[store.APPLICATIONS].find_one({"_id": app_id}, session=session)
        freed = records.cancel_open_referral(deps, session, current)
        if not records.close_application(deps, session, current, CloseReason.WITHDRAWN):
            raise Problem(409, "application_closed", "The application has left the queue.")
        return freed

    freed = mongo.in_transaction(deps.db, work)
    for place_id in freed:
        allocation.reoffer(deps, place_id)
    return view(deps, deps.db[store.APPLICATIONS].find_one({"_id": app_id}))


# --- category decision --------------------------------------------------------------------
def decide_category(deps: Deps, p: Principal, app_id: str, body: dict) -> dict:
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id})
    if app is None or not (common.is_operator_of(p, app["district_id"]) or common.is_admin(p)):
        raise common.not_found("application")
    if app.get("category_status") != CategoryStatus.PENDING or not app["active"]:
        raise Problem(
            409, "category_not_pending", "There is no category waiting for a decision here."
        )
    decision = body["decision"]

    def work(session: ClientSession) -> dict:
        current = deps.db[store.APPLICATIONS].find_one(
            {"_id": app_id, "category_status": CategoryStatus.PENDING, "active": True},
            session=session,
        )
        if current is None:
            raise Problem(409, "category_not_pending", "The category was decided already.")
        changes = {
            "category_status": decision,
            "category_decision": {
                "by": p.account_id,
                "reason": body.get("reason"),
                "at": deps.now(),
            },
        }
        if decision == CategoryStatus.CONFIRMED:
            # The application moves to its category's queue at its original time.
            queues.depart(deps.db, session, current)
            key = q.queue_key(current["district_id"], current["birth_year"], current["category"])
            base = queues.insert(deps.db, session, key, current["ts"], current["_id"])
            changes.update(queue_category=current["category"], queue_key=key, base=base, extra=True)
        deps.db[store.APPLICATIONS].update_one({"_id": app_id}, {"$set": changes}, session=session)
        current.update(changes)
        number = queues.number(deps.db, current, session)
        outbox.emit(
            deps.db,
            session,
            events.CATEGORY_DECIDED,
            {
                **records.about(current),
                "decision": decision,
                "category": current["queue_category"],
                "queue_number": number,
            },
        )
        deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id}, {"$set": {"notified_number": number}}, session=session
        )
        return current

    return view(deps, mongo.in_transaction(deps.db, work))


# --- sweeps -------------------------------------------------------------------------------
def notify_number_changes(deps: Deps) -> int:
    """Tell parents whose number moved by more than the setting since they were last told.
    Walks each queue once in order (a periodic sweep, not a request)."""
    step = deps.settings.queue_number_notify_step
    told = 0
    keys = deps.db[store.APPLICATIONS].distinct("queue_key", {"active": True})
    for key in keys:
        apps = list(deps.db[store.APPLICATIONS].find({"queue_key": key, "active": True}))
        apps.sort(key=lambda a: (a["base"], a["ts"], a["_id"]))
        for number, app in enumerate(apps, start=1):
            last = app.get("notified_number")
            if last is not None and abs(last - number) <= step:
                continue

            def work(session, app=app, number=number, last=last):
                deps.db[store.APPLICATIONS].update_one(
                    {"_id": app["_id"]}, {"$set": {"notified_number": number}}, session=session
                )
                if last is not None:
                    outbox.emit(
                        deps.db,
                        session,
                        events.QUEUE_NUMBER_CHANGED,
                        {
                            **records.about(app),
                            "queue_number": number,
                            "previous_queue_number": last,
                        },
                    )

            mongo.in_transaction(deps.db, work)
            told += last is not None
    return told


def resort(deps: Deps, *, force: bool = False) -> int:
    """The yearly re-sort (by 30 June): children who reach school age by 1 September leave the
    queue (aged_out). Runs once a year; ``force`` runs it on another day (an admin's action)."""
    s = deps.settings
    now = deps.now()
    cal = common.calendar(deps)
    today = cal.local_date(now)
    if not force and f"{today.month:02d}-{today.day:02d}" != s.resort_by:
        return 0
    run_id = f"resort-{today.year}"
    try:
        deps.db[store.RUNS].insert_one({"_id": run_id, "at": now})
    except DuplicateKeyError:
        return 0
    school_start = dt.date(today.year, 9, 1)
    closed = 0
    for app in deps.db[store.APPLICATIONS].find({"active": True, "status": Status.QUEUED}):
        birth = dt.date.fromisoformat(app["child_birth_date"])
        if rules.ages_out(birth, school_start, s.max_child_age_years):
            closed += mongo.in_transaction(
                deps.db,
                lambda session, app=app: records.close_application(
                    deps, session, app, CloseReason.AGED_OUT
                ),
            )
    return closed
