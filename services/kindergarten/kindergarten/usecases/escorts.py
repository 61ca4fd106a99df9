"""An enrolled child's escorts: who may bring and collect the child (seed 003). The applying
parent adds and removes them; the parent and the kindergarten's staff see them; a person sees
the children they escort.

The limits (escorts per child, children per escort) hold under concurrent requests: each
addition takes a slot on a counter with a conditional update in its transaction
(``enrolment.take_slot``).
"""

from __future__ import annotations

import dataclasses

from pymongo.client_session import ClientSession

from edu_common import accounts, mongo, outbox, paging, registry
from edu_common.kz.iin import is_valid_iin, mask_iin
from edu_common.registry import RegistryError
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import events, store
from kindergarten.deps import Deps
from kindergarten.domain import escorts as esc
from kindergarten.usecases import common
from kindergarten.usecases.enrolment import (
    access,
    count,
    escort_id,
    free_slot,
    kindergarten_name,
    take_slot,
)


def _page(collection, query: dict, limit: int, cursor: str | None, shape) -> dict:
    """Oldest first, by the time an escort was added."""
    return paging.keyset_page(
        collection, query, field="added_at", limit=limit, cursor=cursor, shape=shape
    )


def _limits(deps: Deps) -> esc.Limits:
    s = deps.settings
    return esc.Limits(
        escorts_per_child=s.escorts_per_child,
        children_per_escort=s.children_per_escort,
        min_age=s.escort_min_age,
    )


def escort_view(doc: dict) -> dict:
    return {
        "iin": doc["escort_iin"],
        "full_name": doc["full_name"],
        "phone": doc["phone"],
        "is_applying_parent": bool(doc.get("is_parent")),
        "added_at": doc["added_at"],
    }


def list_escorts(
    deps: Deps, principal: Principal, child_iin: str, limit: int, cursor: str | None
) -> dict:
    """The parent sees the child's escorts; so do the kindergarten's staff, who hand the child
    over at the door."""
    who = access(deps, principal, child_iin)
    if not (who.is_parent or who.is_staff):
        raise common.forbidden("Only the parent who applied manages the child's escorts.")
    return _page(deps.db[store.ESCORTS], {"child_iin": child_iin}, limit, cursor, escort_view)


def _is_staff_iin(deps: Deps, iin: str) -> bool:
    return any(common.STAFF in (a.get("roles") or []) for a in accounts.with_iin(deps.db, iin))


def add_escort(deps: Deps, principal: Principal, child_iin: str, body: dict) -> dict:
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise common.forbidden("Only the parent who applied adds escorts.")
    common.require_verified(who.account)
    enrolment = who.enrolment
    iin = body["iin"]
    if not body.get("phone"):
        # Attaching someone who already escorts another of this parent's children: the phone
        # checked then is taken again (and checked again below).
        known = deps.db[store.ESCORTS].find_one(
            {"escort_iin": iin, "parent_account_id": principal.account_id}
        )
        if known is None or not known.get("phone"):
            raise Problem(
                422,
                "phone_required",
                "Give the escort's phone: this person escorts none of your children yet.",
                field="phone",
            )
        body = {**body, "phone": known["phone"]}
    with registry.answering(RegistryError):
        person = deps.registry.find_person(iin) if is_valid_iin(iin) else None
        phones = tuple(deps.registry.phones_for(iin)) if person else ()
    registry_name = (
        esc.registry_full_name(person.surname, person.name, person.patronymic) if person else None
    )
    limits = _limits(deps)
    today = deps.now().astimezone(deps.tz).date()
    doc_id = escort_id(child_iin, iin)

    def facts(session=None) -> esc.Candidate:
        return esc.Candidate(
            iin=iin,
            phone=body["phone"],
            full_name=body.get("full_name"),
            child_iin=child_iin,
            today=today,
            registry_full_name=registry_name,
            registry_phones=phones,
            is_applying_parent=iin == enrolment.get("parent_iin"),
            is_staff=_is_staff_iin(deps, iin) if is_valid_iin(iin) else False,
            child_escort_count=count(deps, f"child:{child_iin}", session),
            escorted_children_count=count(deps, f"escort:{iin}", session),
        )

    def refuse(refusal: esc.Refusal) -> Problem:
        return Problem(422, refusal.code, refusal.detail, field=refusal.field)

    def run(session: ClientSession) -> dict:
        if deps.db[store.ESCORTS].find_one({"_id": doc_id}, session=session):
            raise Problem(
                409, "escort_already_added", "This person already escorts the child.", field="iin"
            )
        refusal = esc.refusal_for(facts(session), limits)
        if refusal:
            raise refuse(refusal)
        # The guards: a concurrent addition may have taken the last slot since we counted.
        if not take_slot(deps, session, f"child:{child_iin}", limits.escorts_per_child):
            raise refuse(esc.refusal_for(_at_limit(facts(), child=True), limits))
        if not take_slot(deps, session, f"escort:{iin}", limits.children_per_escort):
            raise refuse(esc.refusal_for(_at_limit(facts(), child=False), limits))
        doc = {
            "_id": doc_id,
            "child_iin": child_iin,
            "escort_iin": iin,
            "full_name": registry_name,
            "phone": esc.normalize_phone(body["phone"]),
            "kindergarten_id": enrolment["kindergarten_id"],
            "parent_account_id": enrolment["parent_account_id"],
            "is_parent": iin == enrolment.get("parent_iin"),
            "added_at": deps.now(),
            "added_by": principal.account_id,
        }
        deps.db[store.ESCORTS].insert_one(doc, session=session)
        outbox.emit(
            deps.db,
            session,
            events.ESCORT_ADDED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "child_first_name": enrolment.get("child_first_name"),
                "kindergarten_id": enrolment["kindergarten_id"],
                "kindergarten_name": kindergarten_name(deps, enrolment["kindergarten_id"], session),
                "parent_account_id": enrolment["parent_account_id"],
                "escort_iin_masked": mask_iin(iin),
                "escort_full_name": registry_name,
                "escort_phone": doc["phone"],
            },
        )
        return doc

    return escort_view(mongo.in_transaction(deps.db, run))


def _at_limit(c: esc.Candidate, *, child: bool) -> esc.Candidate:
    """The facts as a concurrent request left them: the guarded count at its limit."""
    big = 1 << 30
    if child:
        return dataclasses.replace(c, child_escort_count=big)
    return dataclasses.replace(c, escorted_children_count=big)


def remove_escort(deps: Deps, principal: Principal, child_iin: str, escort_iin: str) -> None:
    who = access(deps, principal, child_iin)
    if not who.is_parent:
        raise common.forbidden("Only the parent who applied removes escorts.")
    enrolment = who.enrolment

    def run(session: ClientSession) -> None:
        doc = deps.db[store.ESCORTS].find_one(
            {"_id": escort_id(child_iin, escort_iin)}, session=session
        )
        if doc is None:
            raise Problem(404, "escort_not_found", "This person does not escort the child.")
        if doc.get("is_parent"):
            raise Problem(
                422,
                esc.PARENT_NOT_REMOVABLE,
                "The parent who applied is always the child's escort.",
                field="escort_iin",
            )
        deps.db[store.ESCORTS].delete_one({"_id": doc["_id"]}, session=session)
        free_slot(deps, session, f"child:{child_iin}")
        free_slot(deps, session, f"escort:{escort_iin}")
        outbox.emit(
            deps.db,
            session,
            events.ESCORT_REMOVED,
            {
                "child_iin_masked": mask_iin(child_iin),
                "kindergarten_id": enrolment["kindergarten_id"],
                "parent_account_id": enrolment["parent_account_id"],
                "escort_iin_masked": mask_iin(escort_iin),
            },
        )

    mongo.in_transaction(deps.db, run)


def escorted_view(escort: dict, enrolment: dict | None) -> dict:
    enrolment = enrolment or {}
    return {
        "child_iin": escort["child_iin"],
        "child_first_name": enrolment.get("child_first_name"),
        "kindergarten_id": escort["kindergarten_id"],
        "group_id": enrolment.get("group_id"),
        "is_applying_parent": bool(escort.get("is_parent")),
        "added_at": escort["added_at"],
    }


def escorted_children(deps: Deps, principal: Principal, limit: int, cursor: str | None) -> dict:
    """The children the caller may bring and collect."""
    account = accounts.require(deps.db, principal.account_id)
    if not account.get("iin"):
        return {"items": [], "next_cursor": None}
    common.require_verified(account)  # the IIN's escort records are the proven holder's only
    page = _page(deps.db[store.ESCORTS], {"escort_iin": account["iin"]}, limit, cursor, lambda d: d)
    ids = [d["child_iin"] for d in page["items"]]
    enrolments = {
        e["_id"]: e for e in deps.db[store.ENROLMENTS].find({"_id": {"$in": ids}, "active": True})
    }
    page["items"] = [
        escorted_view(d, enrolments[d["child_iin"]])
        for d in page["items"]
        if d["child_iin"] in enrolments
    ]
    return page
