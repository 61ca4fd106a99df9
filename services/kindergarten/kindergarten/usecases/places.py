"""Places: published by a kindergarten, offered at once in queue order (``allocation``), open
to claims after a day (docs/decisions/0011-kindergarten-allocation.md)."""

from __future__ import annotations

import uuid

from pymongo.client_session import ClientSession

from edu_common import accounts, mongo, outbox, paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import place as place_rules
from kindergarten.domain import referral as lifecycle
from kindergarten.domain.place import Status as PlaceStatus
from kindergarten.usecases import allocation, common, records


def view(place: dict, kg: dict | None = None) -> dict:
    return {
        "id": place["_id"],
        "kindergarten_id": place["kindergarten_id"],
        "kindergarten_name": (kg or {}).get("name", place.get("kindergarten_name")),
        "group_id": place["group_id"],
        "district_id": place["district_id"],
        "birth_year": place["birth_year"],
        "language": place["language"],
        "status": place["status"],
        "published_at": place["published_at"],
        "open_at": place["open_at"],
    }


def _group(deps: Deps, p: Principal, kg_id: str, group_id: str) -> tuple[dict, dict]:
    kg = common.kindergarten(deps, kg_id)
    if not common.manages_kindergarten(p, kg):
        raise Problem(403, "forbidden", "Only the kindergarten's staff and district may do this.")
    group = deps.db[store.GROUPS].find_one({"_id": group_id, "kindergarten_id": kg_id})
    if group is None:
        raise common.not_found("group")
    return kg, group


def publish(deps: Deps, p: Principal, kg_id: str, group_id: str, count: int) -> dict:
    kg, group = _group(deps, p, kg_id, group_id)
    s = deps.settings
    now = deps.now()
    if common.calendar(deps).in_period(now, s.freeze_from, s.freeze_to):
        raise Problem(
            409,
            "publishing_frozen",
            "Groups move by age in August; no places are published until it ends.",
        )
    held = deps.db[store.PLACES].count_documents(
        {"group_id": group_id, "status": {"$in": list(place_rules.HELD)}}
    )
    enrolled = deps.db[store.ENROLMENTS].count_documents({"group_id": group_id, "active": True})
    if held + enrolled + count > group["capacity"]:
        raise Problem(
            409,
            "capacity_exceeded",
            f"The group has room for {max(group['capacity'] - held - enrolled, 0)} more places.",
            field="count",
        )
    open_at = place_rules.open_at(now, s.offer_in_queue_days)
    docs = [
        {
            "_id": uuid.uuid4().hex,
            "kindergarten_id": kg_id,
            "kindergarten_name": kg["name"],
            "group_id": group_id,
            "district_id": kg["district_id"],
            "birth_year": group["birth_year"],
            "language": group["language"],
            "status": PlaceStatus.VACANT,
            "published_at": now,
            "open_at": open_at,
            "referral_id": None,
        }
        for _ in range(count)
    ]
    deps.db[store.PLACES].insert_many(docs)
    ids = [d["_id"] for d in docs]
    offered = allocation.allocate(deps, ids)
    return {
        "places": [view(d, kg) for d in deps.db[store.PLACES].find({"_id": {"$in": ids}})],
        "offered": offered,
    }


# --- open places --------------------------------------------------------------------------
def list_open(deps: Deps, p: Principal, args: dict) -> dict:
    flt = {
        "district_id": args["district_id"],
        "status": PlaceStatus.VACANT,
        "open_at": {"$lte": deps.now()},
    }
    if args.get("birth_year"):
        flt["birth_year"] = args["birth_year"]
    return paging.keyset_page(
        deps.db[store.PLACES],
        flt,
        field="open_at",
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=view,
    )


def claim(deps: Deps, p: Principal, place_id: str, application_id: str) -> dict:
    """Any queued child of the place's birth year (in its district) may take an open place."""
    common.require_verified(accounts.require(deps.db, p.account_id))
    app = deps.db[store.APPLICATIONS].find_one({"_id": application_id})
    if app is None or app["parent_account_id"] != p.account_id:
        raise common.not_found("application")
    now = deps.now()
    s = deps.settings

    def work(session: ClientSession) -> dict:
        place = deps.db[store.PLACES].find_one({"_id": place_id}, session=session)
        if place is None:
            raise common.not_found("place")
        if not place_rules.is_open(place, now):
            raise Problem(409, "place_not_open", "This place is not open to claims.")
        current = deps.db[store.APPLICATIONS].find_one({"_id": application_id}, session=session)
        refusal = place_rules.refusal(current, place, now)
        if refusal is not None:
            detail, field = _CLAIM_REFUSALS[refusal]
            raise Problem(409, refusal, detail, field=field)
        enrol_by = lifecycle.enrol_by(common.calendar(deps), now, s.enrol_business_days)
        ref = records.new_referral(
            current,
            place,
            now,
            status=lifecycle.Status.CONFIRMED,
            via=lifecycle.Via.CLAIM,
            confirm_by=now,
            confirmed_at=now,
            enrol_by=enrol_by,
        )
        records.hold(deps, session, [(current, place, ref)])
        outbox.emit(
            deps.db,
            session,
            events.REFERRAL_CONFIRMED,
            {**records.referral_event(ref, current), "enrol_by": enrol_by},
        )
        return ref

    return records.referral_view(mongo.in_transaction(deps.db, work))


# Each refusal of a claim: what the parent reads, and the field at fault.
_CLAIM_REFUSALS = {
    place_rules.NOT_WAITING: ("The application is not waiting in the queue.", None),
    place_rules.NOT_FOR_CHILD: (
        "The place is for another district or birth year.",
        "application_id",
    ),
    place_rules.ON_STOP_LIST: ("The child is on the stop list until it ends.", None),
}


def sweep_vacant(deps: Deps) -> int:
    """Places still in their queue day with nobody eligible yet: try the queue again (a child
    may have applied, or come off the stop list, since)."""
    now = deps.now()
    offered = 0
    for place in deps.db[store.PLACES].find(
        {"status": PlaceStatus.VACANT, "open_at": {"$gt": now}}
    ):
        offered += allocation.reoffer(deps, place["_id"])
    return offered
