"""Regions, colleges and their specialties: public to read, edited by admins and officers."""

from __future__ import annotations

import re
import uuid

from pymongo.errors import DuplicateKeyError

from applicant import store
from applicant.deps import Deps
from applicant.usecases import common
from edu_common import paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


def region_view(r: dict) -> dict:
    return {
        "id": r["_id"],
        "name_kk": r["name_kk"],
        "name_ru": r["name_ru"],
        "resettlement": bool(r.get("resettlement")),
    }


def specialty_view(s: dict) -> dict:
    return {
        "code": s["code"],
        "name_kk": s["name_kk"],
        "name_ru": s["name_ru"],
        "qualifications": s.get("qualifications", []),
        "languages": s.get("languages", []),
        "study_forms": s.get("study_forms", []),
        "bases": s.get("bases", []),
        "creative": bool(s.get("creative")),
    }


def college_view(c: dict, with_specialties: bool = False) -> dict:
    out = {
        "id": c["_id"],
        "region_id": c["region_id"],
        "name_kk": c["name_kk"],
        "name_ru": c["name_ru"],
        "address": c.get("address"),
        "languages": c.get("languages", []),
    }
    if with_specialties:
        out["specialties"] = [specialty_view(s) for s in c.get("specialties", [])]
    else:
        out["specialty_codes"] = [s["code"] for s in c.get("specialties", [])]
    return out


def list_regions(deps: Deps, args: dict) -> dict:
    return paging.page(deps.db[store.REGIONS], {}, args, field="name_ru", shape=region_view)


def create_region(deps: Deps, p: Principal, body: dict) -> dict:
    if not common.is_admin(p):
        raise common.forbidden("Only admins create regions.")
    doc = {
        "_id": body.get("id") or f"region-{uuid.uuid4().hex[:12]}",
        "name_kk": body["name_kk"].strip(),
        "name_ru": body["name_ru"].strip(),
        "resettlement": body.get("resettlement", False),
    }
    if deps.db[store.COLLEGES].find_one({"_id": doc["_id"]}, {"_id": 1}):
        raise Problem(409, "id_taken", "A college has this id.", field="id")
    try:
        deps.db[store.REGIONS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(409, "region_exists", "There is such a region.", field="id") from None
    return region_view(doc)


def list_colleges(deps: Deps, args: dict) -> dict:
    flt: dict = {}
    if args.get("region_id"):
        flt["region_id"] = args["region_id"]
    if args.get("language"):
        flt["languages"] = args["language"]
    if args.get("specialty_code"):
        flt["specialties.code"] = args["specialty_code"]
    if args.get("q"):
        words = re.escape(args["q"].strip())
        flt["$or"] = [
            {"name_ru": {"$regex": words, "$options": "i"}},
            {"name_kk": {"$regex": words, "$options": "i"}},
        ]
    return paging.page(deps.db[store.COLLEGES], flt, args, field="name_ru", shape=college_view)


def get_college(deps: Deps, college_id: str) -> dict:
    return college_view(common.college(deps, college_id), with_specialties=True)


def create_college(deps: Deps, p: Principal, body: dict) -> dict:
    region = common.region(deps, body["region_id"])
    if not common.runs_region(deps, p, region["_id"]):
        raise common.forbidden("Only admins and the region's officers add colleges.")
    doc = {
        "_id": body.get("id") or f"college-{uuid.uuid4().hex[:12]}",
        "region_id": region["_id"],
        "name_kk": body["name_kk"].strip(),
        "name_ru": body["name_ru"].strip(),
        "address": body["address"].strip(),
        "languages": sorted(set(body["languages"])),
        "specialties": [],
    }
    if deps.db[store.REGIONS].find_one({"_id": doc["_id"]}, {"_id": 1}):
        raise Problem(409, "id_taken", "A region has this id.", field="id")
    try:
        deps.db[store.COLLEGES].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(409, "college_exists", "There is such a college.", field="id") from None
    return college_view(doc, with_specialties=True)


def _managed(deps: Deps, p: Principal, college_id: str) -> dict:
    college = common.college(deps, college_id)
    if not common.manages_college(deps, p, college):
        raise common.forbidden("Only the college's officers, its region's and admins do this.")
    return college


def update_college(deps: Deps, p: Principal, college_id: str, body: dict) -> dict:
    college = _managed(deps, p, college_id)
    changes = {k: v.strip() for k, v in body.items() if k in ("name_kk", "name_ru", "address")}
    if "languages" in body:
        changes["languages"] = sorted(set(body["languages"]))
    if changes:
        deps.db[store.COLLEGES].update_one({"_id": college_id}, {"$set": changes})
        college.update(changes)
    return college_view(college, with_specialties=True)


def put_specialty(deps: Deps, p: Principal, college_id: str, code: str, body: dict) -> dict:
    """Add or replace one specialty of the college (by its classifier code)."""
    college = _managed(deps, p, college_id)
    taught = set(college.get("languages", []))
    if not set(body["languages"]) <= taught:
        raise Problem(
            422,
            "language_not_taught",
            "The college does not teach in every language listed.",
            field="languages",
        )
    bases = {b["base_education"] for b in body["bases"]}
    if len(bases) != len(body["bases"]):
        raise Problem(422, "base_duplicate", "Each base of education once.", field="bases")
    specialty = {"code": code, **body}
    specialty["languages"] = sorted(set(body["languages"]))
    specialty["study_forms"] = sorted(set(body["study_forms"]))
    rest = [s for s in college.get("specialties", []) if s["code"] != code]
    specialties = sorted([*rest, specialty], key=lambda s: s["code"])
    deps.db[store.COLLEGES].update_one({"_id": college_id}, {"$set": {"specialties": specialties}})
    return specialty_view(specialty)


def delete_specialty(deps: Deps, p: Principal, college_id: str, code: str) -> None:
    college = _managed(deps, p, college_id)
    rest = [s for s in college.get("specialties", []) if s["code"] != code]
    if len(rest) == len(college.get("specialties", [])):
        raise common.not_found("specialty")
    if deps.db[store.OFFERS].find_one({"college_id": college_id, "specialty_code": code}):
        raise Problem(409, "specialty_has_offers", "Campaign places name this specialty; keep it.")
    deps.db[store.COLLEGES].update_one({"_id": college_id}, {"$set": {"specialties": rest}})
