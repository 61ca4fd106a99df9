"""Admission campaigns (per year and region, with their tracks' dates) and their offers:
state-order and paid seats per college, specialty, language, study form and base."""

from __future__ import annotations

import uuid

from pymongo.errors import DuplicateKeyError

from applicant import store
from applicant.deps import Deps
from applicant.domain import campaign as rules
from applicant.domain.scores import from_hundredths
from applicant.usecases import common
from edu_common import paging
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


def tracks_view(tracks: dict) -> dict:
    return rules.from_storage(tracks)


def campaign_view(deps: Deps, c: dict) -> dict:
    tracks = rules.from_storage(c["tracks"])
    today = deps.today()
    return {
        "id": c["_id"],
        "year": c["year"],
        "region_id": c["region_id"],
        "tracks": tracks,
        "open": {t: rules.is_open(tracks, t, today) for t in rules.TRACKS},
        "creative_open": {t: rules.creative_open(tracks, t, today) for t in rules.TRACKS},
        "offers": deps.db[store.OFFERS].count_documents({"campaign_id": c["_id"]}),
    }


def _dates_problem(exc: rules.DatesInvalid) -> Problem:
    return Problem(422, "dates_invalid", str(exc), field=exc.field)


def create_campaign(deps: Deps, p: Principal, body: dict) -> dict:
    region = common.region(deps, body["region_id"])
    if not common.runs_region(deps, p, region["_id"]):
        raise common.forbidden("Only admins and the region's officers open campaigns.")
    defaults = rules.default_tracks(body["year"], deps.settings.tracks)
    try:
        tracks = rules.merge_tracks(defaults, body.get("tracks") or {})
    except rules.DatesInvalid as exc:
        raise _dates_problem(exc) from None
    doc = {
        "_id": body.get("id") or f"campaign-{uuid.uuid4().hex[:12]}",
        "year": body["year"],
        "region_id": region["_id"],
        "tracks": rules.to_storage(tracks),
        "created_at": deps.now(),
        "created_by": p.account_id,
    }
    source = None
    if body.get("copy_offers_from"):
        source = common.campaign(deps, body["copy_offers_from"])
        if source["region_id"] != region["_id"]:
            raise Problem(
                422,
                "campaign_other_region",
                "Copy places from a campaign of the same region.",
                field="copy_offers_from",
            )
    try:
        deps.db[store.CAMPAIGNS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(
            409, "campaign_exists", "The region has a campaign for this year.", field="year"
        ) from None
    if source is not None:
        copies = []
        for o in deps.db[store.OFFERS].find({"campaign_id": source["_id"]}):
            copies.append({**o, "_id": f"offer-{uuid.uuid4().hex[:16]}", "campaign_id": doc["_id"]})
        if copies:
            deps.db[store.OFFERS].insert_many(copies)
    return campaign_view(deps, doc)


def get_campaign(deps: Deps, campaign_id: str) -> dict:
    return campaign_view(deps, common.campaign(deps, campaign_id))


def list_campaigns(deps: Deps, args: dict) -> dict:
    flt = {k: args[k] for k in ("region_id", "year") if args.get(k) is not None}
    return paging.page(
        deps.db[store.CAMPAIGNS],
        flt,
        args,
        field="year",
        newest_first=True,
        shape=lambda c: campaign_view(deps, c),
    )


def update_campaign(deps: Deps, p: Principal, campaign_id: str, body: dict) -> dict:
    """The dates may change, e.g. an early close; nothing else of a campaign does."""
    c = common.campaign(deps, campaign_id)
    if not common.runs_region(deps, p, c["region_id"]):
        raise common.forbidden("Only admins and the region's officers change campaigns.")
    try:
        tracks = rules.merge_tracks(rules.from_storage(c["tracks"]), body.get("tracks") or {})
    except rules.DatesInvalid as exc:
        raise _dates_problem(exc) from None
    stored = rules.to_storage(tracks)
    deps.db[store.CAMPAIGNS].update_one({"_id": campaign_id}, {"$set": {"tracks": stored}})
    c["tracks"] = stored
    return campaign_view(deps, c)


# --- offers -------------------------------------------------------------------------------
def offer_view(o: dict, result: dict | None = None) -> dict:
    out = {
        "id": o["_id"],
        "campaign_id": o["campaign_id"],
        "region_id": o["region_id"],
        "college_id": o["college_id"],
        "college_name_kk": o["college_name_kk"],
        "college_name_ru": o["college_name_ru"],
        "specialty_code": o["specialty_code"],
        "specialty_name_kk": o["specialty_name_kk"],
        "specialty_name_ru": o["specialty_name_ru"],
        "language": o["language"],
        "study_form": o["study_form"],
        "base_education": o["base_education"],
        "duration_months": o.get("duration_months"),
        "creative": o["creative"],
        "rural": o["rural"],
        "state_order_seats": o["state_order_seats"],
        "paid_seats": o["paid_seats"],
        "quota_seats": o.get("quota_seats", {}),
        "general_seats": o["state_order_seats"] - sum(o.get("quota_seats", {}).values()),
    }
    if result is not None:
        out["results"] = {
            "wave": result["wave"],
            "pools": {
                pool: {**r, "cutoff": from_hundredths(r.get("cutoff"))}
                for pool, r in result["result"].items()
            },
        }
    return out


def quota_seats(deps: Deps, region: dict, seats: int, rural: bool) -> dict:
    return deps.settings.quotas.seats(seats, rural, bool(region.get("resettlement")))


def _specialty_for(college: dict, body: dict) -> dict:
    specialty = next(
        (s for s in college.get("specialties", []) if s["code"] == body["specialty_code"]), None
    )
    if specialty is None:
        raise Problem(
            422,
            "specialty_not_taught",
            "The college has no such specialty in its catalogue.",
            field="specialty_code",
        )
    for name in ("language", "study_form"):
        if body[name] not in specialty.get(f"{name}s", []):
            raise Problem(
                422,
                f"{name}_not_offered",
                f"The specialty is not taught with this {name.replace('_', ' ')}.",
                field=name,
            )
    base = next(
        (b for b in specialty.get("bases", []) if b["base_education"] == body["base_education"]),
        None,
    )
    if base is None:
        raise Problem(
            422,
            "base_not_offered",
            "The specialty does not admit after this grade.",
            field="base_education",
        )
    return {**specialty, "duration_months": base.get("duration_months")}


def create_offer(deps: Deps, p: Principal, campaign_id: str, body: dict) -> dict:
    c = common.campaign(deps, campaign_id)
    college = common.college(deps, body["college_id"])
    if college["region_id"] != c["region_id"]:
        raise Problem(
            422,
            "college_other_region",
            "The college is not in the campaign's region.",
            field="college_id",
        )
    if not common.manages_college(deps, p, college):
        raise common.forbidden("Only the college's officers, its region's and admins do this.")
    specialty = _specialty_for(college, body)
    region = common.region(deps, c["region_id"])
    doc = {
        "_id": f"offer-{uuid.uuid4().hex[:16]}",
        "campaign_id": campaign_id,
        "region_id": c["region_id"],
        "college_id": college["_id"],
        "college_name_kk": college["name_kk"],
        "college_name_ru": college["name_ru"],
        "specialty_code": specialty["code"],
        "specialty_name_kk": specialty["name_kk"],
        "specialty_name_ru": specialty["name_ru"],
        "language": body["language"],
        "study_form": body["study_form"],
        "base_education": body["base_education"],
        "duration_months": specialty.get("duration_months"),
        "creative": bool(specialty.get("creative")),
        "rural": body["rural"],
        "state_order_seats": body["state_order_seats"],
        "paid_seats": body["paid_seats"],
        "quota_seats": quota_seats(deps, region, body["state_order_seats"], body["rural"]),
        "created_at": deps.now(),
    }
    try:
        deps.db[store.OFFERS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(
            409,
            "offer_exists",
            "The campaign has this specialty, language, form and base at the college already.",
            field="specialty_code",
        ) from None
    return offer_view(doc)


def update_offer(deps: Deps, p: Principal, offer_id: str, body: dict) -> dict:
    o = common.offer(deps, offer_id)
    college = common.college(deps, o["college_id"])
    if not common.manages_college(deps, p, college):
        raise common.forbidden("Only the college's officers, its region's and admins do this.")
    if deps.db[store.RUNS].find_one({"campaign_id": o["campaign_id"],
                                     "base_education": o["base_education"]}):  # fmt: skip
        raise Problem(409, "allocation_started", "Seats cannot change once allocation has started.")
    changes = {k: body[k] for k in ("state_order_seats", "paid_seats", "rural") if k in body}
    o.update(changes)
    region = common.region(deps, o["region_id"])
    changes["quota_seats"] = quota_seats(deps, region, o["state_order_seats"], o["rural"])
    o["quota_seats"] = changes["quota_seats"]
    deps.db[store.OFFERS].update_one({"_id": offer_id}, {"$set": changes})
    return offer_view(o)


def latest_results(deps: Deps, offer_ids: list[str]) -> dict:
    """offer id -> its placement document of the latest finished wave of its track."""
    if not offer_ids:
        return {}
    offers = list(
        deps.db[store.OFFERS].find(
            {"_id": {"$in": offer_ids}}, {"campaign_id": 1, "base_education": 1}
        )
    )
    runs = {}
    for o in offers:
        key = (o["campaign_id"], o["base_education"])
        if key not in runs:
            runs[key] = latest_done_run(deps, *key)
    ids = [f"{runs[(o['campaign_id'], o['base_education'])]['_id']}:{o['_id']}"
           for o in offers if runs[(o["campaign_id"], o["base_education"])]]  # fmt: skip
    if not ids:
        return {}
    found = deps.db[store.PLACEMENTS].find({"_id": {"$in": ids}}, {"admitted": 0, "pools": 0,
                                                                   "since": 0})  # fmt: skip
    return {d["offer_id"]: d for d in found}


def latest_done_run(deps: Deps, campaign_id: str, base_education: str) -> dict | None:
    found = list(
        deps.db[store.RUNS]
        .find({"campaign_id": campaign_id, "base_education": base_education, "status": "done"})
        .sort("wave", -1)
        .limit(1)
    )
    return found[0] if found else None


def list_offers(deps: Deps, args: dict) -> dict:
    flt = {
        k: args[k]
        for k in ("campaign_id", "college_id", "base_education", "specialty_code", "language")
        if args.get(k)
    }
    got = paging.page(deps.db[store.OFFERS], flt, args, field=("college_id", "specialty_code"))
    results = latest_results(deps, [o["_id"] for o in got["items"]])
    got["items"] = [offer_view(o, results.get(o["_id"])) for o in got["items"]]
    return got


def get_offer(deps: Deps, offer_id: str) -> dict:
    o = common.offer(deps, offer_id)
    return offer_view(o, latest_results(deps, [offer_id]).get(offer_id))
