"""Places: published by a kindergarten, offered at once in queue order, open to claims after a
day (docs/decisions/0011-allocation.md)."""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo import UpdateOne
from pymongo.client_session import ClientSession

from edu_common import mongo, outbox
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import cycle, rules
from kindergarten.domain import queue as q
from kindergarten.usecases import applications, common

FIRST_WINDOW = 128  # bases read at once for the first eligible application (then doubling)


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
        {"group_id": group_id, "status": {"$in": ["vacant", "offered"]}}
    )
    enrolled = deps.db[store.ENROLMENTS].count_documents({"group_id": group_id, "active": True})
    if held + enrolled + count > group["capacity"]:
        raise Problem(
            409,
            "capacity_exceeded",
            f"The group has room for {max(group['capacity'] - held - enrolled, 0)} more places.",
            field="count",
        )
    open_at = now + dt.timedelta(days=s.offer_in_queue_days)
    docs = [
        {
            "_id": uuid.uuid4().hex,
            "kindergarten_id": kg_id,
            "kindergarten_name": kg["name"],
            "group_id": group_id,
            "district_id": kg["district_id"],
            "birth_year": group["birth_year"],
            "language": group["language"],
            "status": "vacant",
            "published_at": now,
            "open_at": open_at,
            "referral_id": None,
        }
        for _ in range(count)
    ]
    deps.db[store.PLACES].insert_many(docs)
    offered = allocate(deps, [d["_id"] for d in docs])
    return {
        "places": [view(d, kg) for d in deps.db[store.PLACES].find({"_id": {"$in": offered[0]}})],
        "offered": offered[1],
    }


def allocate(deps: Deps, place_ids: list[str]) -> tuple[list[str], int]:
    """Offer the vacant places of ``place_ids`` (one group) in queue order, in one transaction.
    Returns (place ids, referrals offered)."""
    offered = mongo.in_transaction(deps.db, lambda session: _offer_all(deps, session, place_ids))
    return list(place_ids), offered


def reoffer(deps: Deps, place_id: str) -> int:
    """A place given back (declined, lapsed, withdrawn) goes to the next in line."""
    return allocate(deps, [place_id])[1]


def _offer_all(deps: Deps, session: ClientSession, place_ids: list[str]) -> int:
    s = deps.settings
    free = list(
        deps.db[store.PLACES].find({"_id": {"$in": place_ids}, "status": "vacant"}, session=session)
    )
    if not free:
        return 0
    free.sort(key=lambda d: d["_id"])
    first = free[0]
    cycle_id = f"{first['district_id']}|{first['birth_year']}"
    state = deps.db[store.CYCLES].find_one({"_id": cycle_id}, session=session) or {}
    position = start = state.get("position", 0)
    now = deps.now()
    queues: dict[str, Candidates] = {}
    used: set[str] = set()  # offered in this transaction (a batch may span two queues)
    offered = 0
    held: list[tuple[dict, dict, dict]] = []
    while free:
        members: list[dict] = []
        turns = cycle.attempts(position, s.cycle_priority, s.cycle_general)
        for category, next_position in turns:  # noqa: B007 - the turn that found someone counts
            if category not in queues:
                queues[category] = Candidates(deps, session, first, category, used)
            members = queues[category].take(len(free))
            if members:
                break
        if not members:
            break
        for app, place in zip(members, free, strict=False):
            offer(deps, session, app, place, now, held)
        offered += len(members)
        free = free[len(members) :]
        if category != cycle.EXTRAORDINARY:
            position = next_position
    _hold_all(deps, session, held)
    if position != start:
        deps.db[store.CYCLES].update_one(
            {"_id": cycle_id}, {"$set": {"position": position}}, upsert=True, session=session
        )
    return offered


class Candidates:
    """One queue's eligible applications for a place, in queue order, read lazily in windows of
    bases through the ``first_eligible`` index (no sort over the queue in the database)."""

    def __init__(self, deps, session, place: dict, category: str, used: set | None = None):
        self.deps, self.session, self.place, self.category = deps, session, place, category
        key = q.queue_key(place["district_id"], place["birth_year"], category)
        head = deps.db[store.QUEUES].find_one({"_id": key}, {"counter": 1}, session=session)
        self.last = head.get("counter", 0) if head else -1
        self.low, self.width = 0, FIRST_WINDOW
        self.buffer: list[dict] = []
        self.used: set[str] = set() if used is None else used
        self.now = deps.now()
        self.today = common.calendar(deps).local_date(self.now)

    def _fill(self) -> bool:
        while not self.buffer and self.low <= self.last:
            found = self.deps.db[store.APPLICATIONS].find(
                {
                    "kindergarten_ids": self.place["kindergarten_id"],
                    "birth_year": self.place["birth_year"],
                    "language": self.place["language"],
                    "queue_category": self.category,
                    "status": "queued",
                    "base": {"$gte": self.low, "$lt": self.low + self.width},
                },
                session=self.session,
            )
            self.buffer = sorted(found, key=lambda a: (a["base"], a["ts"], a["_id"]))
            self.low += self.width
            self.width *= 2
        return bool(self.buffer)

    def _eligible(self, app: dict) -> bool:
        if app["_id"] in self.used:
            return False
        if app.get("stop_until") and app["stop_until"] > self.now:
            return False
        birth = dt.date.fromisoformat(app["child_birth_date"])
        return rules.old_enough_for_offer(
            birth, self.today, self.deps.settings.min_offer_age_months
        )

    def take(self, capacity: int) -> list[dict]:
        """The next application with the rest of its batch; a batch needing more than
        ``capacity`` places is passed over (it keeps its number; fewer places never follow in
        this publication)."""
        while self._fill():
            app = self.buffer.pop(0)
            if not self._eligible(app):
                continue
            members = _batch(self.deps, self.session, app) if app.get("batch_id") else [app]
            if len(members) > capacity:
                continue
            self.used.update(m["_id"] for m in members)
            return members
        return []


def first_eligible(
    deps: Deps, session: ClientSession, place: dict, category: str, capacity: int
) -> list[dict]:
    """The first application in ``category``'s queue that may take this place, with its batch."""
    return Candidates(deps, session, place, category).take(capacity)


def _batch(deps: Deps, session: ClientSession, app: dict) -> list[dict]:
    """The batch's children still waiting for this age group and language: offered together."""
    members = [
        m
        for m in deps.db[store.APPLICATIONS].find({"batch_id": app["batch_id"]}, session=session)
        if m["status"] == "queued"
        and m["birth_year"] == app["birth_year"]
        and m["language"] == app["language"]
    ]
    members.sort(key=lambda a: (a["base"], a["ts"], a["_id"]))
    return members or [app]


def referral_event(ref: dict, app: dict) -> dict:
    return {
        **applications.about(app),
        "referral_id": ref["_id"],
        "kindergarten_id": ref["kindergarten_id"],
        "kindergarten_name": ref["kindergarten_name"],
        "group_id": ref["group_id"],
    }


def _new_referral(deps: Deps, app: dict, place: dict, now: dt.datetime, **kw) -> dict:
    return {
        "_id": uuid.uuid4().hex,
        "application_id": app["_id"],
        "place_id": place["_id"],
        "group_id": place["group_id"],
        "kindergarten_id": place["kindergarten_id"],
        "kindergarten_name": place["kindergarten_name"],
        "district_id": place["district_id"],
        "birth_year": place["birth_year"],
        "language": place["language"],
        "child_iin": app["child_iin"],
        "child_first_name": app.get("child_first_name"),
        "parent_account_id": app["parent_account_id"],
        "offered_at": now,
        "confirmed_at": None,
        "enrol_by": None,
        "extended": False,
        "reminded": [],
        "closed_at": None,
        **kw,
    }


def _hold_all(deps: Deps, session: ClientSession, held: list[tuple[dict, dict, dict]]) -> None:
    """Mark the applications and places of new referrals, three commands for all of them; each
    change is conditional, so one that someone else changed meanwhile fails the lot."""
    if not held:
        return
    apps = deps.db[store.APPLICATIONS].bulk_write(
        [
            UpdateOne(
                {"_id": app["_id"], "status": "queued", "active": True},
                {"$set": {"status": "offered", "referral_id": ref["_id"]}},
            )
            for app, _place, ref in held
        ],
        session=session,
    )
    places = deps.db[store.PLACES].bulk_write(
        [
            UpdateOne(
                {"_id": place["_id"], "status": "vacant"},
                {"$set": {"status": "offered", "referral_id": ref["_id"]}},
            )
            for _app, place, ref in held
        ],
        session=session,
    )
    if apps.modified_count != len(held) or places.modified_count != len(held):
        raise Problem(409, "place_or_application_changed", "Someone was faster. Try again.")
    deps.db[store.REFERRALS].insert_many([ref for _a, _p, ref in held], session=session)


def _hold(deps: Deps, session: ClientSession, app: dict, place: dict, ref: dict) -> None:
    _hold_all(deps, session, [(app, place, ref)])


def offer(
    deps: Deps, session: ClientSession, app: dict, place: dict, now: dt.datetime, held=None
) -> dict:
    """A referral for ``app`` to ``place``; with ``held`` (a list) the writes are left to the
    caller's ``_hold_all``."""
    confirm_by = common.calendar(deps).deadline(now, deps.settings.confirm_business_days)
    ref = _new_referral(deps, app, place, now, status="offered", via="queue", confirm_by=confirm_by)
    if held is None:
        _hold(deps, session, app, place, ref)
    else:
        held.append((app, place, ref))
    outbox.emit(
        deps.db,
        session,
        events.REFERRAL_OFFERED,
        {**referral_event(ref, app), "confirm_by": confirm_by},
    )
    return ref


# --- open places --------------------------------------------------------------------------
def list_open(deps: Deps, p: Principal, args: dict) -> dict:
    flt = {"district_id": args["district_id"], "status": "vacant", "open_at": {"$lte": deps.now()}}
    if args.get("birth_year"):
        flt["birth_year"] = args["birth_year"]
    cur = deps.db[store.PLACES].find(flt).sort([("open_at", 1), ("_id", 1)])
    got = common.page(cur, args["limit"], args.get("cursor"))
    return {"items": [view(x) for x in got["items"]], "next_cursor": got["next_cursor"]}


def claim(deps: Deps, p: Principal, place_id: str, application_id: str) -> dict:
    """Any queued child of the place's birth year (in its district) may take an open place."""
    from kindergarten.usecases import referrals

    app = deps.db[store.APPLICATIONS].find_one({"_id": application_id})
    if app is None or app["parent_account_id"] != p.account_id:
        raise common.not_found("application")
    now = deps.now()
    s = deps.settings

    def work(session: ClientSession) -> dict:
        place = deps.db[store.PLACES].find_one({"_id": place_id}, session=session)
        if place is None:
            raise common.not_found("place")
        if place["status"] != "vacant" or place["open_at"] > now:
            raise Problem(409, "place_not_open", "This place is not open to claims.")
        current = deps.db[store.APPLICATIONS].find_one({"_id": application_id}, session=session)
        if current["status"] != "queued":
            raise Problem(
                409, "application_not_waiting", "The application is not waiting in the queue."
            )
        if current["district_id"] != place["district_id"] or (
            current["birth_year"] != place["birth_year"]
        ):
            raise Problem(
                409,
                "place_not_for_child",
                "The place is for another district or birth year.",
                field="application_id",
            )
        if current.get("stop_until") and current["stop_until"] > now:
            raise Problem(409, "on_stop_list", "The child is on the stop list until it ends.")
        enrol_by = common.calendar(deps).deadline(now, s.enrol_business_days)
        ref = _new_referral(
            deps,
            current,
            place,
            now,
            status="confirmed",
            via="claim",
            confirm_by=now,
            confirmed_at=now,
            enrol_by=enrol_by,
        )
        _hold(deps, session, current, place, ref)
        outbox.emit(
            deps.db,
            session,
            events.REFERRAL_CONFIRMED,
            {**referral_event(ref, current), "enrol_by": enrol_by},
        )
        return ref

    return referrals.view(mongo.in_transaction(deps.db, work))


def sweep_vacant(deps: Deps) -> int:
    """Places still in their queue day with nobody eligible yet: try the queue again (a child
    may have applied, or come off the stop list, since)."""
    now = deps.now()
    offered = 0
    for place in deps.db[store.PLACES].find({"status": "vacant", "open_at": {"$gt": now}}):
        offered += reoffer(deps, place["_id"])
    return offered
