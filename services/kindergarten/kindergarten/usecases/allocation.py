"""Allocation: vacant places offered in queue order, extraordinary first, then priority and
general in their cycle, batches together (docs/decisions/0011-kindergarten-allocation.md).

Above ``records`` and below the commands that publish, give back or sweep places.
"""

from __future__ import annotations

import datetime as dt

from pymongo.client_session import ClientSession

from edu_common import mongo, outbox
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import cycle, rules
from kindergarten.domain import place as place_rules
from kindergarten.domain import queue as q
from kindergarten.domain import referral as lifecycle
from kindergarten.domain.application import Status as ApplicationStatus
from kindergarten.domain.place import Status as PlaceStatus
from kindergarten.usecases import common, records

FIRST_WINDOW = 128  # bases read at once for the first eligible application (then doubling)


def allocate(deps: Deps, place_ids: list[str]) -> int:
    """Offer the vacant places of ``place_ids`` (one group) in queue order, in one transaction.
    Returns the referrals offered."""
    return mongo.in_transaction(deps.db, lambda session: _offer_all(deps, session, place_ids))


def reoffer(deps: Deps, place_id: str) -> int:
    """A place given back (declined, lapsed, withdrawn) goes to the next in line."""
    return allocate(deps, [place_id])


def _offer_all(deps: Deps, session: ClientSession, place_ids: list[str]) -> int:
    s = deps.settings
    free = list(
        deps.db[store.PLACES].find(
            {"_id": {"$in": place_ids}, "status": PlaceStatus.VACANT}, session=session
        )
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
            _offer(deps, session, app, place, now, held)
        offered += len(members)
        free = free[len(members) :]
        if category != cycle.EXTRAORDINARY:
            position = next_position
    records.hold(deps, session, held)
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
                    "status": ApplicationStatus.QUEUED,
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
        if place_rules.refusal(app, self.place, self.now) is not None:
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


def _batch(deps: Deps, session: ClientSession, app: dict) -> list[dict]:
    """The batch's children still waiting for this age group and language: offered together."""
    members = [
        m
        for m in deps.db[store.APPLICATIONS].find({"batch_id": app["batch_id"]}, session=session)
        if m["status"] == ApplicationStatus.QUEUED
        and m["birth_year"] == app["birth_year"]
        and m["language"] == app["language"]
    ]
    members.sort(key=lambda a: (a["base"], a["ts"], a["_id"]))
    return members or [app]


def _offer(
    deps: Deps, session: ClientSession, app: dict, place: dict, now: dt.datetime, held: list
) -> None:
    """A referral for ``app`` to ``place``, its event now; its writes are left to the caller's
    ``records.hold`` (one bulk write for the whole publication)."""
    confirm_by = lifecycle.confirm_by(
        common.calendar(deps), now, deps.settings.confirm_business_days
    )
    ref = records.new_referral(
        app,
        place,
        now,
        status=lifecycle.Status.OFFERED,
        via=lifecycle.Via.QUEUE,
        confirm_by=confirm_by,
    )
    held.append((app, place, ref))
    outbox.emit(
        deps.db,
        session,
        events.REFERRAL_OFFERED,
        {**records.referral_event(ref, app), "confirm_by": confirm_by},
    )
