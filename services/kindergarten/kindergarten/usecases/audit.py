"""kindergarten's audit log: security and correction events, for the district's operators and
admins (wrong door codes and locks, attendance corrections and their decisions).

One small collection (store.AUDIT), written next to the change it records; never codes, only
who, what, where and when. The child's IIN is kept, as everywhere in this database, to find a
child's history; views show it masked.
"""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo.client_session import ClientSession

from edu_common import paging
from edu_common.kz.iin import mask_iin
from edu_common.web.auth import Principal
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.usecases import common

# What is recorded.
DOOR_CODE_REJECTED = "door_code.rejected"
DOOR_CODE_LOCKED = "door_code.locked"
CORRECTION_REQUESTED = "attendance.correction_requested"
CORRECTION_APPROVED = "attendance.correction_approved"
CORRECTION_REJECTED = "attendance.correction_rejected"
TYPES = (
    DOOR_CODE_REJECTED,
    DOOR_CODE_LOCKED,
    CORRECTION_REQUESTED,
    CORRECTION_APPROVED,
    CORRECTION_REJECTED,
)


def record(
    deps: Deps,
    kind: str,
    *,
    at: dt.datetime,
    account_id: str | None,
    kindergarten_id: str | None,
    child_iin: str | None = None,
    client: str | None = None,
    session: ClientSession | None = None,
    **details,
) -> None:
    deps.db[store.AUDIT].insert_one(
        {
            "_id": uuid.uuid4().hex,
            "at": at,
            "type": kind,
            "account_id": account_id,
            "kindergarten_id": kindergarten_id,
            "child_iin": child_iin,
            "client": client,
            "details": details,
        },
        session=session,
    )


def view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "at": doc["at"],
        "type": doc["type"],
        "account_id": doc.get("account_id"),
        "kindergarten_id": doc.get("kindergarten_id"),
        "child_iin_masked": mask_iin(doc["child_iin"]) if doc.get("child_iin") else None,
        "client": doc.get("client"),
        "details": doc.get("details") or {},
    }


def kindergarten_log(
    deps: Deps, principal: Principal, kindergarten_id: str, limit: int, cursor: str | None
) -> dict:
    """A kindergarten's audit log, newest first: its district's operators and admins."""
    kg = common.kindergarten(deps, kindergarten_id)
    if not (common.is_admin(principal) or common.is_operator_of(principal, kg["district_id"])):
        raise common.forbidden("The audit log is for the district's operators and admins.")
    return paging.keyset_page(
        deps.db[store.AUDIT],
        {"kindergarten_id": kindergarten_id},
        field="at",
        limit=limit,
        cursor=cursor,
        newest_first=True,
        shape=view,
    )
