"""An enrolled child, as the use cases about it share it: the enrolment record, how the caller
relates to the child (``access``), the escort records and their counters, and what enrolment
and leaving do to the escorts.

Who is asking decides everything about an enrolled child: the applying parent manages escorts
and approves months; an escort marks the child in and out with the door code; the group's
teacher marks too; the kindergarten's staff see their own children. Anyone else learns
nothing: 404.

Limits that must hold under concurrent requests are guarded by conditional updates of one
document (a counter), inside the same transaction as the change: two parents' clicks cannot
both add a 5th escort.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pymongo.client_session import ClientSession

from edu_common import accounts
from edu_common.kz.iin import is_valid_iin
from edu_common.registry import RegistryError
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.domain import escorts as esc
from kindergarten.usecases import common


# --- who is asking ------------------------------------------------------------------------
@dataclass(frozen=True)
class Access:
    enrolment: dict
    account: dict
    is_parent: bool
    is_staff: bool  # staff of the child's kindergarten
    is_teacher: bool  # ... and a teacher of the child's group
    escort: dict | None  # the caller's escort record for this child (a verified account's)
    unverified_escort: bool = False  # an escort's IIN, on an account not proven to hold it


def not_found() -> Problem:
    return Problem(404, "child_not_found", "No enrolled child with this IIN is yours to see.")


def access(deps: Deps, principal: Principal, child_iin: str) -> Access:
    """How the caller relates to the enrolled child; 404 when not at all."""
    account = accounts.require(deps.db, principal.account_id)
    if not is_valid_iin(child_iin):
        raise not_found()
    enrolment = deps.db[store.ENROLMENTS].find_one({"_id": child_iin, "active": True})
    if enrolment is None:
        raise not_found()
    is_parent = enrolment.get("parent_account_id") == principal.account_id
    is_staff = common.is_staff_of(principal, enrolment["kindergarten_id"])
    is_teacher = False
    if is_staff:
        group = deps.db[store.GROUPS].find_one({"_id": enrolment.get("group_id")}) or {}
        is_teacher = principal.account_id in (group.get("teacher_ids") or [])
    escort = None
    if account.get("iin"):
        escort = deps.db[store.ESCORTS].find_one({"_id": escort_id(child_iin, account["iin"])})
    # An escort is a person (an IIN); only an account proven to be that person acts as one.
    unverified_escort = escort is not None and not common.is_verified(account)
    if unverified_escort:
        escort = None
    if not (is_parent or is_staff or escort):
        if unverified_escort:
            raise common.not_verified()
        raise not_found()
    return Access(enrolment, account, is_parent, is_staff, is_teacher, escort, unverified_escort)


def kindergarten_name(deps: Deps, kindergarten_id: str, session=None) -> str:
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id}, session=session)
    return (kg or {}).get("name") or kindergarten_id


def child_view(deps: Deps, principal: Principal, child_iin: str) -> dict:
    """The enrolled child as the caller may see it."""
    who = access(deps, principal, child_iin)
    e = who.enrolment
    kg = deps.db[store.KINDERGARTENS].find_one({"_id": e["kindergarten_id"]}) or {}
    group = deps.db[store.GROUPS].find_one({"_id": e.get("group_id")}) or {}
    relation = (
        "parent"
        if who.is_parent
        else "teacher"
        if who.is_teacher
        else "staff"
        if who.is_staff
        else "escort"
    )
    return {
        "child_iin": child_iin,
        "child_first_name": e.get("child_first_name"),
        "kindergarten_id": e["kindergarten_id"],
        "kindergarten_name": kg.get("name"),
        "group_id": e.get("group_id"),
        "group_name": group.get("name"),
        "enrolled_at": e.get("enrolled_at"),
        "relation": relation,
    }


# --- escort records -----------------------------------------------------------------------
def escort_id(child_iin: str, escort_iin: str) -> str:
    return f"{child_iin}:{escort_iin}"


def count(deps: Deps, key: str, session: ClientSession | None = None) -> int:
    doc = deps.db[store.ESCORT_COUNTS].find_one({"_id": key}, session=session)
    return int(doc["n"]) if doc else 0


def take_slot(deps: Deps, session: ClientSession, key: str, limit: int | None) -> bool:
    """Count one more against ``key``; False when that would pass ``limit`` (None: no limit)."""
    col = deps.db[store.ESCORT_COUNTS]
    col.update_one({"_id": key}, {"$setOnInsert": {"n": 0}}, upsert=True, session=session)
    query: dict = {"_id": key}
    if limit is not None:
        query["n"] = {"$lt": limit}
    return col.update_one(query, {"$inc": {"n": 1}}, session=session).modified_count == 1


def free_slot(deps: Deps, session: ClientSession, key: str) -> None:
    deps.db[store.ESCORT_COUNTS].update_one(
        {"_id": key, "n": {"$gt": 0}}, {"$inc": {"n": -1}}, session=session
    )


# --- enrolment and leaving ------------------------------------------------------------------
def enrol(deps: Deps, session: ClientSession, app: dict, ref: dict, now: dt.datetime) -> dict:
    """The child's enrolment from its application and referral, the applying parent its first
    escort, in the caller's transaction; 409 if the child is enrolled somewhere already."""
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
    add_parent_as_escort(deps, session, enrolment)
    return enrolment


def add_parent_as_escort(deps: Deps, session: ClientSession | None, enrolment: dict) -> None:
    """The applying parent becomes the child's first escort (inside the enrolment's
    transaction). Never refuses: the limits are for people the parent adds, and enrolment
    must not fail on them. Running it twice changes nothing."""
    child_iin = enrolment["child_iin"]
    parent_iin = enrolment.get("parent_iin")
    if not parent_iin:
        return
    doc_id = escort_id(child_iin, parent_iin)
    if deps.db[store.ESCORTS].find_one({"_id": doc_id}, session=session):
        return
    account = deps.db[accounts.ACCOUNTS].find_one(
        {"_id": enrolment["parent_account_id"]}, session=session
    )
    full_name = (account or {}).get("full_name")
    phone = (account or {}).get("phone")
    if not full_name or not phone:
        try:
            person = deps.registry.find_person(parent_iin)
        except RegistryError:
            person = None
        if person:
            full_name = full_name or esc.registry_full_name(
                person.surname, person.name, person.patronymic
            )
            phone = phone or (person.phones[0] if person.phones else None)
    deps.db[store.ESCORTS].insert_one(
        {
            "_id": doc_id,
            "child_iin": child_iin,
            "escort_iin": parent_iin,
            "full_name": full_name or "",
            "phone": phone or "",
            "kindergarten_id": enrolment["kindergarten_id"],
            "parent_account_id": enrolment["parent_account_id"],
            "is_parent": True,
            "added_at": deps.now(),
            "added_by": enrolment["parent_account_id"],
        },
        session=session,
    )
    take_slot(deps, session, f"child:{child_iin}", None)
    take_slot(deps, session, f"escort:{parent_iin}", None)


def release_escorts(deps: Deps, session: ClientSession, child_iin: str) -> None:
    """The child left the kindergarten: its escorts are released (they count towards no one's
    limit any more)."""
    for doc in deps.db[store.ESCORTS].find({"child_iin": child_iin}, session=session):
        deps.db[store.ESCORTS].delete_one({"_id": doc["_id"]}, session=session)
        free_slot(deps, session, f"escort:{doc['escort_iin']}")
    deps.db[store.ESCORT_COUNTS].delete_one({"_id": f"child:{child_iin}"}, session=session)
