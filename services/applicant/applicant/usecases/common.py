"""What the use cases share: who is asking, lookups that 404, the events' "whose".

Roles come from the signed token. ``college_officer`` is one role for two desks
(docs/decisions/0012-quota-rounding-and-officers.md): its ``organization_id`` names either a
college (that college's admission officer) or a region (the regional education department).
"""

from __future__ import annotations

from applicant import store
from applicant.deps import Deps
from edu_common import accounts
from edu_common.kz.iin import mask_iin
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem

ADMIN = "admin"
OFFICER = "college_officer"
CITIZEN = "citizen"


def is_admin(p: Principal) -> bool:
    return ADMIN in p.roles


def officer_org(p: Principal) -> str | None:
    return p.organization_id if OFFICER in p.roles and p.organization_id else None


def is_college_officer(p: Principal, college_id: str | None) -> bool:
    return college_id is not None and officer_org(p) == college_id


def is_region_officer(deps: Deps, p: Principal, region_id: str | None) -> bool:
    """A college_officer whose organisation is the region itself."""
    return region_id is not None and officer_org(p) == region_id


def officer_region(deps: Deps, p: Principal) -> str | None:
    org = officer_org(p)
    if org and deps.db[store.REGIONS].find_one({"_id": org}, {"_id": 1}):
        return org
    return None


def runs_region(deps: Deps, p: Principal, region_id: str) -> bool:
    """Admins and the region's officers run its campaigns and catalogue."""
    return is_admin(p) or is_region_officer(deps, p, region_id)


def manages_college(deps: Deps, p: Principal, college: dict) -> bool:
    return (
        is_admin(p)
        or is_college_officer(p, college["_id"])
        or is_region_officer(deps, p, college["region_id"])
    )


def account_of(deps: Deps, p: Principal) -> dict:
    """The asking person's account from the local copy; it arrives seconds after registration."""
    return accounts.require(deps.db, p.account_id)


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


def not_found(what: str) -> Problem:
    return Problem(404, f"{what}_not_found")


def region(deps: Deps, region_id: str) -> dict:
    found = deps.db[store.REGIONS].find_one({"_id": region_id})
    if found is None:
        raise not_found("region")
    return found


def college(deps: Deps, college_id: str) -> dict:
    found = deps.db[store.COLLEGES].find_one({"_id": college_id})
    if found is None:
        raise not_found("college")
    return found


def campaign(deps: Deps, campaign_id: str) -> dict:
    found = deps.db[store.CAMPAIGNS].find_one({"_id": campaign_id})
    if found is None:
        raise not_found("campaign")
    return found


def offer(deps: Deps, offer_id: str) -> dict:
    found = deps.db[store.OFFERS].find_one({"_id": offer_id})
    if found is None:
        raise not_found("offer")
    return found


def whose(app: dict) -> dict:
    """What every application event says about whose it is (no full IIN, no name)."""
    return {
        "application_id": app["_id"],
        "applicant_account_id": app["applicant_account_id"],
        "applicant_iin_masked": mask_iin(app["applicant_iin"]),
        "campaign_id": app["campaign_id"],
        "region_id": app["region_id"],
        "year": app["year"],
        "base_education": app["base_education"],
    }


def college_names(college: dict) -> dict:
    return {
        "college_id": college["_id"],
        "college_name_kk": college["name_kk"],
        "college_name_ru": college["name_ru"],
    }


def offer_names(offer: dict) -> dict:
    return {
        "offer_id": offer["_id"],
        "college_id": offer["college_id"],
        "college_name_kk": offer["college_name_kk"],
        "college_name_ru": offer["college_name_ru"],
        "specialty_code": offer["specialty_code"],
        "specialty_name_kk": offer["specialty_name_kk"],
        "specialty_name_ru": offer["specialty_name_ru"],
        "language": offer["language"],
        "study_form": offer["study_form"],
    }
