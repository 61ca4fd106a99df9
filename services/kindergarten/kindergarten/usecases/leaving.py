"""A child leaves the kindergarten: its staff record it, the enrolment ends, the escorts are
released and the parent is told (kindergarten.child.left.v1)."""

from __future__ import annotations

from pymongo.client_session import ClientSession

from edu_common import mongo, outbox
from edu_common.kz.iin import mask_iin
from edu_common.web.auth import Principal
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.usecases import common
from kindergarten.usecases.enrolment import access, not_found, release_escorts


def leave(deps: Deps, principal: Principal, child_iin: str, reason: str) -> None:
    """The kindergarten's staff record that the child has left: the enrolment ends, its
    escorts are released, and the parent is told."""
    who = access(deps, principal, child_iin)
    if not who.is_staff:
        raise common.forbidden("Only the kindergarten's staff record that a child has left.")
    enrolment = who.enrolment
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": enrolment["kindergarten_id"]}) or {}

    def run(session: ClientSession) -> None:
        ended = deps.db[store.ENROLMENTS].update_one(
            {"_id": child_iin, "active": True},
            {"$set": {"active": False, "left_at": deps.now(), "left_reason": reason}},
            session=session,
        )
        if not ended.modified_count:
            raise not_found()
        release_escorts(deps, session, child_iin)
        outbox.emit(
            deps.db,
            session,
            events.CHILD_LEFT,
            {
                "application_id": enrolment.get("application_id") or "",
                "parent_account_id": enrolment["parent_account_id"],
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "district_id": kg.get("district_id", ""),
                "kindergarten_id": enrolment["kindergarten_id"],
                "kindergarten_name": kg.get("name", ""),
                "reason": reason,
            },
        )

    mongo.in_transaction(deps.db, run)
