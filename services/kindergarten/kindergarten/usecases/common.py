"""What the kindergarten use cases share: who is asking, lookups that 404, the calendar. The
bottom of the use cases: it imports no other use case."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from edu_common import accounts
from edu_common.kz.calendar import BusinessCalendar
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem
from kindergarten import store
from kindergarten.deps import Deps

ADMIN = "admin"
STAFF = "kindergarten_staff"
OPERATOR = "district_operator"


@lru_cache(maxsize=8)
def _calendar(country: str, zone: ZoneInfo) -> BusinessCalendar:
    # One per country and zone: the holidays are looked up once per year.
    return BusinessCalendar(country, zone)


def calendar(deps: Deps) -> BusinessCalendar:
    return _calendar(deps.settings.holidays_country, deps.tz)


# --- who is asking ------------------------------------------------------------------------
# Roles and organisation come from the signed token; the parent's IIN from the accounts copy.
def is_admin(p: Principal) -> bool:
    return ADMIN in p.roles


def is_operator_of(p: Principal, district_id: str | None) -> bool:
    return OPERATOR in p.roles and district_id is not None and p.organization_id == district_id


def is_staff_of(p: Principal, kindergarten_id: str | None) -> bool:
    return STAFF in p.roles and kindergarten_id is not None and p.organization_id == kindergarten_id


def manages_kindergarten(p: Principal, kindergarten: dict) -> bool:
    """Its staff, its district's operators and admins run a kindergarten's groups and places."""
    return (
        is_admin(p)
        or is_staff_of(p, kindergarten["_id"])
        or is_operator_of(p, kindergarten["district_id"])
    )


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", detail)


# An account whose holder has not proved the IIN is theirs may look, but not apply for a place
# or act as an escort (edu_common.accounts).
is_verified, require_verified = accounts.is_verified, accounts.require_verified
not_verified = accounts.not_verified


# --- lookups ------------------------------------------------------------------------------
def not_found(what: str = "not_found") -> Problem:
    return Problem(404, what if what.endswith("not_found") else f"{what}_not_found")


def district(deps: Deps, district_id: str) -> dict:
    found = deps.db[store.DISTRICTS].find_one({"_id": district_id})
    if found is None:
        raise not_found("district")
    return found


def kindergarten(deps: Deps, kindergarten_id: str) -> dict:
    found = deps.db[store.KINDERGARTENS].find_one({"_id": kindergarten_id})
    if found is None:
        raise not_found("kindergarten")
    return found
