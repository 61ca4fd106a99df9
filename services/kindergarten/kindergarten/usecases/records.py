"""The queue's records as several use cases change them, each change with its event: an
application leaving its queue, a referral holding a place, moving on, or giving its place back;
and how a referral is shown and told.

Below allocation and the commands: it imports only ``queues`` and the domain. Every writer takes
the caller's session, so the change commits with the rest of the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo import UpdateOne
from pymongo.client_session import ClientSession

from edu_common import outbox
from edu_common.kz.iin import mask_iin
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import referral as lifecycle
from kindergarten.domain.application import Status as ApplicationStatus
from kindergarten.domain.place import Status as PlaceStatus
from kindergarten.usecases import queues


# --- what events say ----------------------------------------------------------------------
def about(app: dict) -> dict:
    """What every parent-facing event says about whose child it is (no full IIN)."""
    return {
        "application_id": app["_id"],
        "parent_account_id": app["parent_account_id"],
        "child_iin_masked": mask_iin(app["child_iin"]),
        "child_first_name": app.get("child_first_name"),
        "district_id": app["district_id"],
    }


def referral_event(ref: dict, app: dict) -> dict:
    return {
        **about(app),
        "referral_id": ref["_id"],
        "kindergarten_id": ref["kindergarten_id"],
        "kindergarten_name": ref["kindergarten_name"],
        "group_id": ref["group_id"],
    }


def referral_view(ref: dict) -> dict:
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


def application_of(deps: Deps, session: ClientSession | None, ref: dict) -> dict:
    return deps.db[store.APPLICATIONS].find_one({"_id": ref["application_id"]}, session=session)


# --- applications -------------------------------------------------------------------------
def close_application(deps: Deps, session: ClientSession, app: dict, reason: str) -> bool:
    """Take the application out of its queue; False if it had left already."""
    done = deps.db[store.APPLICATIONS].update_one(
        {"_id": app["_id"], "active": True},
        {
            "$set": {
                "active": False,
                "status": ApplicationStatus.CLOSED,
                "closed_reason": reason,
                "closed_at": deps.now(),
            }
        },
        session=session,
    )
    if not done.modified_count:
        return False
    queues.depart(deps.db, session, app)
    outbox.emit(deps.db, session, events.APPLICATION_CLOSED, {**about(app), "reason": reason})
    return True


# --- referrals ----------------------------------------------------------------------------
def new_referral(app: dict, place: dict, now: dt.datetime, **kw) -> dict:
    """A referral of ``app`` to ``place``; ``kw`` gives its status, how and its deadlines."""
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


def hold(deps: Deps, session: ClientSession, held: list[tuple[dict, dict, dict]]) -> None:
    """Write new referrals with their (application, place, referral): the applications and
    places are marked, three commands for all of them; each change is conditional, so one that
    someone else changed meanwhile fails the lot."""
    if not held:
        return
    apps = deps.db[store.APPLICATIONS].bulk_write(
        [
            UpdateOne(
                {"_id": app["_id"], "status": ApplicationStatus.QUEUED, "active": True},
                {"$set": {"status": ApplicationStatus.OFFERED, "referral_id": ref["_id"]}},
            )
            for app, _place, ref in held
        ],
        session=session,
    )
    places = deps.db[store.PLACES].bulk_write(
        [
            UpdateOne(
                {"_id": place["_id"], "status": PlaceStatus.VACANT},
                {"$set": {"status": PlaceStatus.OFFERED, "referral_id": ref["_id"]}},
            )
            for _app, place, ref in held
        ],
        session=session,
    )
    if apps.modified_count != len(held) or places.modified_count != len(held):
        raise Problem(409, "place_or_application_changed", "Someone was faster. Try again.")
    deps.db[store.REFERRALS].insert_many([ref for _a, _p, ref in held], session=session)


def try_transition(
    deps: Deps, session: ClientSession, ref: dict, move: lifecycle.Move, changes: dict
) -> dict | None:
    """Move the referral on only from a state ``move`` starts from: the referral as changed,
    or None when a concurrent change got there first."""
    changes = {"status": move.target, **changes}
    done = deps.db[store.REFERRALS].update_one(
        {"_id": ref["_id"], "status": {"$in": list(move.sources)}},
        {"$set": changes},
        session=session,
    )
    return {**ref, **changes} if done.modified_count else None


def transition(
    deps: Deps, session: ClientSession, ref: dict, move: lifecycle.Move, changes: dict
) -> dict:
    """``try_transition`` for a request: losing the race is a 409."""
    done = try_transition(deps, session, ref, move, changes)
    if done is None:
        raise Problem(409, "referral_state", "The referral is no longer in a state for this.")
    return done


def free_place(deps: Deps, session: ClientSession, ref: dict) -> None:
    """The place the referral held is vacant again (the caller offers it on)."""
    deps.db[store.PLACES].update_one(
        {"_id": ref["place_id"], "referral_id": ref["_id"]},
        {"$set": {"status": PlaceStatus.VACANT, "referral_id": None}},
        session=session,
    )


def cancel_open_referral(deps: Deps, session: ClientSession, app: dict) -> list[str]:
    """A withdrawn application gives back the place its open referral held: [its id], or []."""
    ref = deps.db[store.REFERRALS].find_one(
        {"application_id": app["_id"], "status": {"$in": list(lifecycle.OPEN)}}, session=session
    )
    if ref is None:
        return []
    done = transition(deps, session, ref, lifecycle.DECLINE, {"closed_at": deps.now()})
    free_place(deps, session, ref)
    outbox.emit(deps.db, session, events.REFERRAL_DECLINED, referral_event(done, app))
    return [ref["place_id"]]
