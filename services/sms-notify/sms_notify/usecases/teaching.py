"""Whose child is whose, and who teaches the child: what subscriptions and messages to teachers
rest on.

A school child's parents are the population registry's (``Person.parents``). Who teaches a
child, sms-notify knows only from the events it consumes anyway, so it keeps from them where
each child learns (collection ``teaching_links``, store.py):

- the school journal's homework and grades name the student (IIN), the school and the class,
  and, when the journal's contract carries it, the teacher who set them
  (``teacher_account_id``): one link per student, ``school|<iin>``, with the newest event's
  school and class and the teachers named for the child in that class;
- kindergarten's ``child.enrolled`` names the applying parent's account, the kindergarten and
  the group, and, when its contract carries them, the group's ``teacher_ids``: one link per
  application, ``kindergarten|<application id>``; ``child.left`` ends it.

``domain.conversations.teaches`` says which teacher a link makes the child's.
"""

from __future__ import annotations

import logging

from pymongo.client_session import ClientSession

from edu_common import accounts
from edu_common.envelope import Envelope
from edu_common.kz.iin import mask_iin
from edu_common.registry import Person, RegistryError, RegistryUnavailable
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain.conversations import teaches

log = logging.getLogger(__name__)

SCHOOL, KINDERGARTEN = "school", "kindergarten"


# --- whose child is whose -------------------------------------------------------------------
def check_verified(account: dict) -> None:
    """A cabinet registered with data by hand (a foreigner's) is not yet known to be who it
    says: until an operator checks the identity document it gets nothing about a child.
    (A copy from before identity sent ``verified`` was made by a verified path.)"""
    accounts.require_verified(
        account,
        "Your account was registered with data entered by hand: an operator must check "
        "your identity document before you can receive a child's grades or homework or "
        "write to a child's teachers.",
    )


def _registry(call, *args):
    try:
        return call(*args)
    except RegistryUnavailable:
        raise Problem(
            503,
            "registry_unavailable",
            "The population registry cannot be reached; try again later.",
            headers={"Retry-After": "30"},
        ) from None
    except RegistryError:
        log.exception("population registry answered something unexpected")
        raise Problem(503, "registry_unavailable", headers={"Retry-After": "30"}) from None


def child_of(deps: Deps, parent: dict, child_iin: str, field: str = "student_iin") -> Person:
    """The child's registry record, when the registry lists ``parent`` (an account) among the
    child's parents; else 403 ``not_your_child``, the same whether the registry does not know
    the IIN or names other parents (the answer tells nobody who is in the registry)."""
    child = _registry(deps.registry.find_person, child_iin)
    if child is None or not parent.get("iin") or parent["iin"] not in child.parents:
        raise Problem(
            403,
            "not_your_child",
            "The population registry does not list you as this child's parent.",
            field=field,
        )
    return child


def children_of(deps: Deps, parent: dict) -> list[Person]:
    if not parent.get("iin"):
        return []
    return _registry(deps.registry.children_of, parent["iin"])


# --- what the events say -------------------------------------------------------------------
def note_journal(deps: Deps, session: ClientSession | None, data: dict, envelope: Envelope) -> None:
    """A journal event: the student learns in this school and class (the newest event wins;
    the teachers it names for the child in that class are collected)."""
    school, klass = data.get("school_id"), data.get("class_name")
    if not school:
        return  # without the school the event links the child to nobody
    col = deps.db[store.TEACHING_LINKS]
    key = f"{SCHOOL}|{data['student_iin']}"
    named = [data["teacher_account_id"]] if data.get("teacher_account_id") else []
    version = envelope.occurred_at
    current = col.find_one({"_id": key}, session=session)
    same_class = current is not None and (
        (current.get("organization_id"), current.get("class_name")) == (school, klass)
    )
    if current is None or (not same_class and current["version"] < version):
        col.replace_one(
            {"_id": key},
            {
                "kind": SCHOOL,
                "student_iin": data["student_iin"],
                "student_name": data.get("student_name"),
                "organization_id": school,
                "class_name": klass,
                "teacher_ids": named,
                "active": True,
                "version": version,
                "updated_at": deps.now(),
            },
            upsert=True,
            session=session,
        )
    elif same_class:
        change: dict = {"$max": {"version": version}, "$set": {"updated_at": deps.now()}}
        if named:
            change["$addToSet"] = {"teacher_ids": {"$each": named}}
        col.update_one({"_id": key}, change, session=session)
    # else: an older event of the class the student has left: it changes nothing


def note_enrolled(
    deps: Deps, session: ClientSession | None, data: dict, envelope: Envelope
) -> None:
    """kindergarten.child.enrolled: the parent's child is in this kindergarten and group."""
    _kindergarten(deps, session, data, envelope, active=True)


def note_left(deps: Deps, session: ClientSession | None, data: dict, envelope: Envelope) -> None:
    """kindergarten.child.left: the link ends."""
    _kindergarten(deps, session, data, envelope, active=False)


def _kindergarten(deps: Deps, session, data: dict, envelope: Envelope, *, active: bool) -> None:
    col = deps.db[store.TEACHING_LINKS]
    key = f"{KINDERGARTEN}|{data['application_id']}"
    current = col.find_one({"_id": key}, {"version": 1}, session=session)
    if current is not None and current["version"] >= envelope.occurred_at:
        return  # an older event arriving late
    fields = {
        "kind": KINDERGARTEN,
        "parent_account_id": data["parent_account_id"],
        "child_iin_masked": data.get("child_iin_masked"),
        "child_first_name": data.get("child_first_name"),
        "organization_id": data["kindergarten_id"],
        "active": active,
        "version": envelope.occurred_at,
        "updated_at": deps.now(),
    }
    if data.get("group_id"):
        fields["group_id"] = data["group_id"]
    if data.get("teacher_ids") is not None:
        fields["teacher_ids"] = list(data["teacher_ids"])
    update: dict = {"$set": fields}
    if "teacher_ids" not in fields:
        update["$setOnInsert"] = {"teacher_ids": []}
    col.update_one({"_id": key}, update, upsert=True, session=session)


# --- who teaches whose child -----------------------------------------------------------------
def link_of(deps: Deps, link_id: str | None) -> dict | None:
    return deps.db[store.TEACHING_LINKS].find_one({"_id": link_id}) if link_id else None


def find_link(
    deps: Deps, parent: dict, teacher: dict, child_iin: str | None = None
) -> tuple[dict, str | None] | None:
    """(the link, the child's given name) by which ``teacher`` teaches a child of ``parent``,
    or None. ``child_iin``: that child only (403 ``not_your_child`` if not the parent's)."""
    if child_iin is not None:
        children = [child_of(deps, parent, child_iin)]
    else:
        children = children_of(deps, parent)
    names = {c.iin: c.name for c in children}
    col = deps.db[store.TEACHING_LINKS]
    school = col.find({"_id": {"$in": [f"{SCHOOL}|{iin}" for iin in names]}})
    for found in school:
        if teaches(teacher, found):
            return found, names.get(found["student_iin"])
    kindergarten = col.find(
        {"kind": KINDERGARTEN, "parent_account_id": parent["_id"], "active": True}
    )
    for found in kindergarten:
        if child_iin is not None and found.get("child_iin_masked") != mask_iin(child_iin):
            continue
        if teaches(teacher, found):
            return found, found.get("child_first_name")
    return None
