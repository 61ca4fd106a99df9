"""Districts, kindergartens, groups, and who works where."""

from __future__ import annotations

import uuid

from pymongo.errors import DuplicateKeyError

from edu_common import accounts, paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps
from kindergarten.domain.place import Status as PlaceStatus
from kindergarten.usecases import common


def district_view(d: dict) -> dict:
    return {"id": d["_id"], "name": d["name"]}


def kindergarten_view(kg: dict) -> dict:
    return {
        "id": kg["_id"],
        "name": kg["name"],
        "district_id": kg["district_id"],
        "address": kg.get("address"),
        "languages": kg.get("languages", []),
    }


def group_view(g: dict, open_places: int | None = None) -> dict:
    out = {
        "id": g["_id"],
        "kindergarten_id": g["kindergarten_id"],
        "name": g["name"],
        "birth_year": g["birth_year"],
        "language": g["language"],
        "capacity": g["capacity"],
        "teacher_ids": g.get("teacher_ids", []),
    }
    if open_places is not None:
        out["open_places"] = open_places
    return out


def list_districts(deps: Deps, args: dict) -> dict:
    return paging.keyset_page(
        deps.db[store.DISTRICTS],
        {},
        field="name",
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=district_view,
    )


def create_district(deps: Deps, p: Principal, body: dict) -> dict:
    if not common.is_admin(p):
        raise Problem(403, "forbidden", "Only admins create districts.")
    doc = {"_id": body.get("id") or uuid.uuid4().hex, "name": body["name"].strip()}
    try:
        deps.db[store.DISTRICTS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(409, "district_exists", "There is such a district.", field="name") from None
    return district_view(doc)


def list_kindergartens(deps: Deps, args: dict) -> dict:
    flt: dict = {}
    if args.get("district_id"):
        flt["district_id"] = args["district_id"]
    if args.get("language"):
        flt["languages"] = args["language"]
    return paging.keyset_page(
        deps.db[store.KINDERGARTENS],
        flt,
        field="name",
        limit=args["limit"],
        cursor=args.get("cursor"),
        shape=kindergarten_view,
    )


def create_kindergarten(deps: Deps, p: Principal, body: dict) -> dict:
    district = common.district(deps, body["district_id"])
    if not (common.is_admin(p) or common.is_operator_of(p, district["_id"])):
        raise Problem(403, "forbidden", "Only admins and the district's operators do this.")
    doc = {
        "_id": uuid.uuid4().hex,
        "name": body["name"].strip(),
        "district_id": district["_id"],
        "address": body["address"].strip(),
        "languages": sorted(set(body["languages"])),
    }
    deps.db[store.KINDERGARTENS].insert_one(doc)
    return kindergarten_view(doc)


def get_kindergarten(deps: Deps, kg_id: str) -> dict:
    kg = common.kindergarten(deps, kg_id)
    groups = list(deps.db[store.GROUPS].find({"kindergarten_id": kg_id}).sort("birth_year", 1))
    now = deps.now()
    open_by_group: dict[str, int] = {}
    for place in deps.db[store.PLACES].find(
        {"kindergarten_id": kg_id, "status": PlaceStatus.VACANT, "open_at": {"$lte": now}},
        {"group_id": 1},
    ):
        open_by_group[place["group_id"]] = open_by_group.get(place["group_id"], 0) + 1
    return {
        **kindergarten_view(kg),
        "groups": [group_view(g, open_by_group.get(g["_id"], 0)) for g in groups],
        "open_places": sum(open_by_group.values()),
    }


def _managed(deps: Deps, p: Principal, kg_id: str) -> dict:
    kg = common.kindergarten(deps, kg_id)
    if not common.manages_kindergarten(p, kg):
        raise Problem(403, "forbidden", "Only the kindergarten's staff and district do this.")
    return kg


def _check_teachers(deps: Deps, kg_id: str, teacher_ids: list[str]) -> list[str]:
    teacher_ids = list(dict.fromkeys(teacher_ids))
    for account_id in teacher_ids:
        account = accounts.get(deps.db, account_id)
        if (
            account is None
            or common.STAFF not in (account.get("roles") or [])
            or account.get("organization_id") != kg_id
        ):
            raise Problem(
                422,
                "teacher_not_staff",
                "Every teacher must be a staff account of this kindergarten.",
                field="teacher_ids",
            )
    return teacher_ids


def create_group(deps: Deps, p: Principal, kg_id: str, body: dict) -> dict:
    kg = _managed(deps, p, kg_id)
    if body["language"] not in kg.get("languages", []):
        raise Problem(
            422,
            "language_not_taught",
            "The kindergarten does not teach in this language.",
            field="language",
        )
    doc = {
        "_id": uuid.uuid4().hex,
        "kindergarten_id": kg_id,
        "district_id": kg["district_id"],
        "name": body["name"].strip(),
        "birth_year": body["birth_year"],
        "language": body["language"],
        "capacity": body["capacity"],
        "teacher_ids": _check_teachers(deps, kg_id, body.get("teacher_ids") or []),
    }
    deps.db[store.GROUPS].insert_one(doc)
    return group_view(doc)


def update_group(deps: Deps, p: Principal, kg_id: str, group_id: str, body: dict) -> dict:
    _managed(deps, p, kg_id)
    group = deps.db[store.GROUPS].find_one({"_id": group_id, "kindergarten_id": kg_id})
    if group is None:
        raise common.not_found("group")
    changes = {}
    if "name" in body:
        changes["name"] = body["name"].strip()
    if "capacity" in body:
        changes["capacity"] = body["capacity"]
    if "teacher_ids" in body:
        changes["teacher_ids"] = _check_teachers(deps, kg_id, body["teacher_ids"])
    if changes:
        deps.db[store.GROUPS].update_one({"_id": group_id}, {"$set": changes})
        group.update(changes)
    return group_view(group)


def staff(deps: Deps, p: Principal, kg_id: str) -> list[dict]:
    """The kindergarten's staff as identity's events told us (role + organisation)."""
    _managed(deps, p, kg_id)
    found = deps.db[accounts.ACCOUNTS].find(
        {"roles": common.STAFF, "organization_id": kg_id, "active": {"$ne": False}}
    )
    return [
        {"account_id": a["_id"], "full_name": a.get("full_name"), "roles": a.get("roles", [])}
        for a in found
    ]
