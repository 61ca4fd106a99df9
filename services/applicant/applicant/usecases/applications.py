"""The applicant's own cabinet: applying with up to 4 ranked choices, changing them,
consent of a legal representative, submitting, withdrawing; reading one's applications, and
an officer's list of the applications to their college."""

from __future__ import annotations

import datetime as dt
import uuid

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import campaign as dates
from applicant.domain import lifecycle as lc
from applicant.domain.scores import from_hundredths, to_hundredths
from applicant.usecases import common, results
from edu_common import accounts, mongo, outbox, paging, registry
from edu_common.kz.iin import IINError, mask_iin, parse_iin
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem


# --- views --------------------------------------------------------------------------------
def document_view(d: dict) -> dict:
    return {
        "id": d["_id"],
        "kind": d["kind"],
        "quota": d.get("quota"),
        "filename": d["filename"],
        "content_type": d["content_type"],
        "size": d["size"],
        "status": d["status"],
        "reason": d.get("reason"),
        "uploaded_at": d["uploaded_at"],
    }


def current_documents(deps: Deps, app_id: str, session=None) -> list[dict]:
    return list(
        deps.db[store.DOCUMENTS]
        .find({"application_id": app_id, "current": True}, session=session)
        .sort("uploaded_at", 1)
    )


def view(deps: Deps, app: dict) -> dict:
    offers = {o["_id"]: o for o in deps.db[store.OFFERS].find({"_id": {"$in": app["offer_ids"]}})}
    st = results.standing(deps, app)
    status = lc.effective_status(app["status"], st.placed if st else None)
    passed = set(app.get("passed_exams") or [])
    choices = []
    for rank, c in enumerate(app["choices"], start=1):
        o = offers.get(c["offer_id"], {})
        choices.append(
            {
                "rank": rank,
                "offer_id": c["offer_id"],
                "college_id": c["college_id"],
                "college_name_ru": o.get("college_name_ru"),
                "college_name_kk": o.get("college_name_kk"),
                "specialty_code": o.get("specialty_code"),
                "specialty_name_ru": o.get("specialty_name_ru"),
                "specialty_name_kk": o.get("specialty_name_kk"),
                "language": o.get("language"),
                "study_form": o.get("study_form"),
                "creative": c.get("creative", False),
                "exam_passed": (c["offer_id"] in passed) if c.get("creative") else None,
            }
        )
    out = {
        "id": app["_id"],
        "status": status,
        "campaign_id": app["campaign_id"],
        "region_id": app["region_id"],
        "year": app["year"],
        "base_education": app["base_education"],
        "certificate_average": from_hundredths(app["score"]),
        "quota_claims": app["quota_claims"],
        "choices": choices,
        "applicant_iin_masked": mask_iin(app["applicant_iin"]),
        "consent_required": app["consent_required"],
        "consent": app.get("consent"),
        "documents": [document_view(d) for d in current_documents(deps, app["_id"])],
        "review": app.get("review"),
        "created_at": app["created_at"],
        "submitted_at": app.get("submitted_at"),
        "accepted_at": app.get("accepted_at"),
        "allocated_offer_id": None,
        "allocation": None,
        "results": None,
        "enrolment": app.get("enrolment"),
        "declined_reason": app.get("declined_reason"),
    }
    if app["status"] == lc.ENROLLED and app.get("enrolment"):
        out["allocated_offer_id"] = app["enrolment"]["offer_id"]
        out["allocation"] = {k: app["enrolment"].get(k) for k in ("offer_id", "pool", "cutoff")}
    if st is not None:
        out["results"] = {
            "wave": st.run["wave"],
            "appeal_by": st.run["appeal_by"],
            "choices": results.choice_outcomes(deps, app, st),
        }
        if st.placed:
            out["allocated_offer_id"] = st.offer_id
            out["allocation"] = {
                "offer_id": st.offer_id,
                "pool": st.pool,
                "cutoff": from_hundredths(st.cutoff),
                "wave": st.since_wave,
                "confirm_by": results.confirm_by(deps, app, st),
            }
    return out


# --- who may see and touch ----------------------------------------------------------------
def is_own(p: Principal, app: dict) -> bool:
    return app["applicant_account_id"] == p.account_id


def officer_sees(deps: Deps, p: Principal, app: dict) -> bool:
    if app["status"] == lc.DRAFT:
        return False
    org = common.officer_org(p)
    return org is not None and (org in app["college_ids"] or org == app["region_id"])


def load_visible(deps: Deps, p: Principal, app_id: str, session=None) -> dict:
    """The application if the asker may see it; anyone else gets the same 404."""
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id}, session=session)
    if app is None or not (is_own(p, app) or officer_sees(deps, p, app) or common.is_admin(p)):
        raise common.not_found("application")
    return app


def load_own(deps: Deps, p: Principal, app_id: str, session=None) -> dict:
    app = load_visible(deps, p, app_id, session)
    if not is_own(p, app):
        raise common.forbidden("Only the applicant does this, in their own cabinet.")
    return app


def get(deps: Deps, p: Principal, app_id: str) -> dict:
    return view(deps, load_visible(deps, p, app_id))


def list_for(deps: Deps, p: Principal, args: dict) -> dict:
    flt: dict = {}
    org = common.officer_org(p)
    if args.get("college_id") or args.get("region_id"):
        target = args.get("college_id") or args.get("region_id")
        if not (common.is_admin(p) or org == target):
            raise common.forbidden("Officers see the applications to their own college/region.")
        key = "college_ids" if args.get("college_id") else "region_id"
        flt[key] = target
        flt["status"] = {"$ne": lc.DRAFT}
    elif org is not None and common.OFFICER in p.roles:
        flt["$or"] = [{"college_ids": org}, {"region_id": org}]
        flt["status"] = {"$ne": lc.DRAFT}
    else:
        flt["applicant_account_id"] = p.account_id
    if args.get("campaign_id"):
        flt["campaign_id"] = args["campaign_id"]
    if args.get("offer_id"):
        flt["offer_ids"] = args["offer_id"]
    if args.get("status") in lc.STORED:
        flt["status"] = args["status"]
    elif args.get("status") in (lc.ALLOCATED, lc.NOT_ALLOCATED):
        flt["status"] = lc.ACCEPTED
    got = paging.page(deps.db[store.APPLICATIONS], flt, args, field="created_at", newest_first=True)
    items = [view(deps, a) for a in got["items"]]
    if args.get("status") in (lc.ALLOCATED, lc.NOT_ALLOCATED):
        items = [i for i in items if i["status"] == args["status"]]
    return {"items": items, "next_cursor": got["next_cursor"]}


# --- choices ------------------------------------------------------------------------------
def _check_choices(deps: Deps, c: dict, base: str, choices: list[dict]) -> list[dict]:
    """Up to 4 ranked choices across at most 4 colleges, all of this campaign and track;
    creative specialties only until their earlier deadline. Each refusal names its field."""
    s = deps.settings
    if not choices:
        raise Problem(422, "choices_required", "Choose at least one specialty.", field="choices")
    if len(choices) > s.max_choices:
        raise Problem(
            422,
            "too_many_choices",
            f"At most {s.max_choices} choices.",
            field=f"choices[{s.max_choices}]",
        )
    ids = [ch["offer_id"] for ch in choices]
    offers = {o["_id"]: o for o in deps.db[store.OFFERS].find({"_id": {"$in": ids}})}
    tracks = dates.from_storage(c["tracks"])
    today = deps.today()
    seen: set[str] = set()
    colleges: list[str] = []
    out = []
    for i, offer_id in enumerate(ids):
        field = f"choices[{i}].offer_id"
        if offer_id in seen:
            raise Problem(422, "choice_duplicate", "Each specialty once.", field=field)
        seen.add(offer_id)
        o = offers.get(offer_id)
        if o is None or o["campaign_id"] != c["_id"]:
            raise Problem(
                422, "offer_not_in_campaign", "No such place in this campaign.", field=field
            )
        if o["base_education"] != base:
            raise Problem(
                422,
                "offer_other_track",
                "The place admits after another grade than yours.",
                field=field,
            )
        if o["creative"] and not dates.creative_open(tracks, base, today):
            raise Problem(
                422,
                "creative_closed",
                f"Creative specialties took applications until {tracks['creative_closes']}.",
                field=field,
            )
        if o["college_id"] not in colleges:
            colleges.append(o["college_id"])
        if len(colleges) > s.max_colleges:
            raise Problem(
                422,
                "too_many_colleges",
                f"Choices across at most {s.max_colleges} colleges.",
                field=field,
            )
        out.append({"offer_id": offer_id, "college_id": o["college_id"], "creative": o["creative"]})
    return out


def _choice_fields(choices: list[dict]) -> dict:
    colleges = list(dict.fromkeys(ch["college_id"] for ch in choices))
    return {
        "choices": choices,
        "offer_ids": [ch["offer_id"] for ch in choices],
        "college_ids": colleges,
        "first_college_id": colleges[0],
    }


def _track_open(deps: Deps, c: dict, base: str) -> None:
    tracks = dates.from_storage(c["tracks"])
    if not dates.is_open(tracks, base, deps.today()):
        dates_of = tracks[base]
        raise Problem(
            422,
            "campaign_closed",
            f"Applications after this grade are taken from {dates_of['opens']} to "
            f"{dates_of['closes']} (Almaty time).",
            field="base_education",
        )


def _campaign_for(deps: Deps, campaign_id: str) -> dict:
    found = deps.db[store.CAMPAIGNS].find_one({"_id": campaign_id})
    if found is None:
        raise Problem(422, "campaign_not_found", "No such campaign.", field="campaign_id")
    return found


def _score(deps: Deps, average: float) -> int:
    s = deps.settings
    if not s.score_min <= average <= s.score_max:
        raise Problem(
            422,
            "certificate_average_out_of_range",
            f"The average is between {s.score_min} and {s.score_max}.",
            field="certificate_average",
        )
    return to_hundredths(average)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def create(deps: Deps, p: Principal, body: dict) -> dict:
    """A draft in the applicant's own name: the IIN is the cabinet's, never typed in, so a
    parent cannot apply for their child from the parent's cabinet (seed 001)."""
    account = accounts.require_verified(common.account_of(deps, p))
    try:
        iin = parse_iin(account.get("iin") or "")
    except IINError:
        raise common.forbidden("Only a cabinet with an IIN can apply.") from None
    c = _campaign_for(deps, body["campaign_id"])
    base = body["base_education"]
    _track_open(deps, c, base)
    choices = _check_choices(deps, c, base, body["choices"])
    now = deps.now()
    birth = (
        dt.date.fromisoformat(account["birth_date"])
        if account.get("birth_date")
        else (iin.birth_date)
    )
    app = {
        "_id": uuid.uuid4().hex,
        "campaign_id": c["_id"],
        "region_id": c["region_id"],
        "year": c["year"],
        "applicant_account_id": p.account_id,
        "applicant_iin": iin.value,
        "applicant_birth_date": birth.isoformat(),
        "base_education": base,
        "certificate_average": body["certificate_average"],
        "score": _score(deps, body["certificate_average"]),
        "tie": None,
        **_choice_fields(choices),
        "quota_claims": list(dict.fromkeys(body.get("quota_claims") or [])),
        "passed_exams": [],
        "consent_required": age_on(birth, deps.today()) < deps.settings.consent_age,
        "consent": None,
        "status": lc.DRAFT,
        "active": True,
        "review": None,
        "created_at": now,
    }
    try:
        deps.db[store.APPLICATIONS].insert_one(app)
    except DuplicateKeyError:
        raise Problem(
            409,
            "application_exists",
            "You have an application in this campaign already: change it instead.",
            field="campaign_id",
        ) from None
    return view(deps, app)


def update(deps: Deps, p: Principal, app_id: str, body: dict) -> dict:
    """Change the choices until the track closes; in a draft also the average and claims.
    If the first-choice college changes after acceptance, its officers review anew."""
    app = load_own(deps, p, app_id)
    c = common.campaign(deps, app["campaign_id"])
    if app["status"] not in lc.EDITABLE_CHOICES:
        raise Problem(409, "application_closed", "This application can no longer change.")
    _track_open(deps, c, app["base_education"])
    changes: dict = {}
    if app["status"] != lc.DRAFT:
        for name in ("certificate_average", "quota_claims"):
            if name in body:
                raise Problem(
                    409,
                    "application_submitted",
                    "After submission only the choices change.",
                    field=name,
                )
    if "certificate_average" in body:
        changes["certificate_average"] = body["certificate_average"]
        changes["score"] = _score(deps, body["certificate_average"])
    if "quota_claims" in body:
        changes["quota_claims"] = list(dict.fromkeys(body["quota_claims"]))
    if "choices" in body:
        changes.update(_choice_fields(_check_choices(deps, c, app["base_education"],
                                                     body["choices"])))  # fmt: skip
        if app["status"] == lc.ACCEPTED and changes["first_college_id"] != app["first_college_id"]:
            changes["status"] = lc.move(app["status"], lc.REOPEN_REVIEW)
            changes["accepted_at"] = None
    if changes:
        done = deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id, "status": app["status"]}, {"$set": changes}
        )
        if not done.matched_count:
            raise Problem(409, "application_changed", "The application changed meanwhile.")
        app.update(changes)
        results.refresh_key(deps, app_id)
    return view(deps, app)


# --- consent of a legal representative ----------------------------------------------------
def record_consent(deps: Deps, p: Principal, app_id: str) -> dict:
    """A parent the population registry links to the applicant consents, from their own
    cabinet. Anyone else gets the 404 of an application that does not exist."""
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id})
    account = common.account_of(deps, p)
    if app is None or not account.get("iin"):
        raise common.not_found("application")
    with registry.answering():
        person = deps.registry.find_person(app["applicant_iin"])
    if person is None or account["iin"] not in person.parents:
        raise common.not_found("application")
    accounts.require_verified(account)  # a parent, but not a proven one
    if app["status"] not in (lc.DRAFT, lc.DOCUMENTS_RETURNED, lc.SUBMITTED):
        raise Problem(409, "application_closed", "Consent is recorded before submission.")
    consent = {
        "representative_account_id": p.account_id,
        "representative_iin_masked": mask_iin(account["iin"]),
        "recorded_at": deps.now(),
    }
    deps.db[store.APPLICATIONS].update_one({"_id": app_id}, {"$set": {"consent": consent}})
    return {"application_id": app_id, **consent}


# --- submitting and withdrawing -----------------------------------------------------------
def missing_documents(app: dict, docs: list[dict]) -> list[tuple[str, str | None]]:
    have = {(d["kind"], d.get("quota")) for d in docs if d["status"] != lc.DOC_RETURNED}
    return [need for need in lc.required_documents(app["quota_claims"]) if need not in have]


def submit(deps: Deps, p: Principal, app_id: str) -> dict:
    app = load_own(deps, p, app_id)
    accounts.require_verified(common.account_of(deps, p))
    c = common.campaign(deps, app["campaign_id"])
    if app["status"] not in lc.sources(lc.SUBMIT):
        raise Problem(409, "not_submittable", f"The application is {app['status']}.")
    _track_open(deps, c, app["base_education"])
    if app["consent_required"] and not app.get("consent"):
        raise Problem(
            422,
            "representative_consent_required",
            f"Applicants under {deps.settings.consent_age} need a parent's consent: they give "
            "it from their own cabinet (POST /applications/{id}/consent).",
            field="consent",
        )
    _check_choices(deps, c, app["base_education"], app["choices"])

    def work(session: ClientSession) -> dict:
        current = deps.db[store.APPLICATIONS].find_one(
            {"_id": app_id, "status": app["status"]}, session=session
        )
        if current is None:
            raise Problem(409, "application_changed", "The application changed meanwhile.")
        missing = missing_documents(current, current_documents(deps, app_id, session))
        if missing:
            kind, quota = missing[0]
            raise Problem(
                422,
                "document_missing",
                f"Upload the {kind.replace('_', ' ')}"
                + (f" for the {quota} quota" if quota else "")
                + " first.",
                field=f"documents.{kind}" + (f".{quota}" if quota else ""),
                missing=[{"kind": k, "quota": q} for k, q in missing],
            )
        now = deps.now()
        first = current.get("first_submitted_at") or now
        changes = {
            "status": lc.move(current["status"], lc.SUBMIT),
            "submitted_at": now,
            "first_submitted_at": first,
            "tie": f"{first.astimezone(dt.UTC):%Y%m%dT%H%M%S%f}",
        }
        deps.db[store.APPLICATIONS].update_one({"_id": app_id}, {"$set": changes}, session=session)
        results.refresh_key(deps, app_id, session)
        offers = {
            o["_id"]: o
            for o in deps.db[store.OFFERS].find(
                {"_id": {"$in": current["offer_ids"]}}, {"specialty_code": 1}, session=session
            )
        }
        outbox.emit(
            deps.db,
            session,
            events.SUBMITTED,
            {
                **common.whose(current),
                "choices": [
                    {
                        "offer_id": ch["offer_id"],
                        "college_id": ch["college_id"],
                        "specialty_code": offers[ch["offer_id"]]["specialty_code"],
                    }
                    for ch in current["choices"]
                ],
                "quota_claims": current["quota_claims"],
                "certificate_average": from_hundredths(current["score"]),
                "submitted_at": now,
                "resubmission": current["status"] == lc.DOCUMENTS_RETURNED,
            },
        )
        current.update(changes)
        return current

    return view(deps, mongo.in_transaction(deps.db, work))


def withdraw(deps: Deps, p: Principal, app_id: str) -> dict:
    app = load_own(deps, p, app_id)
    c = common.campaign(deps, app["campaign_id"])
    if app["status"] not in lc.sources(lc.WITHDRAW):
        raise Problem(409, "not_withdrawable", f"The application is {app['status']}.")
    tracks = dates.from_storage(c["tracks"])
    if dates.is_closed(tracks, app["base_education"], deps.today()):
        raise Problem(
            409,
            "campaign_closed",
            "The campaign has closed: decline the seat instead, if you are given one.",
        )

    def work(session: ClientSession) -> dict:
        done = deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id, "status": app["status"]},
            {
                "$set": {
                    "status": lc.move(app["status"], lc.WITHDRAW),
                    "active": False,
                    "withdrawn_at": deps.now(),
                }
            },
            session=session,
        )
        if not done.modified_count:
            raise Problem(409, "application_changed", "The application changed meanwhile.")
        outbox.emit(deps.db, session, events.WITHDRAWN, common.whose(app))
        return deps.db[store.APPLICATIONS].find_one({"_id": app_id}, session=session)

    return view(deps, mongo.in_transaction(deps.db, work))


# --- entrance exams of creative specialties -----------------------------------------------
def record_exam(deps: Deps, p: Principal, app_id: str, body: dict) -> dict:
    app = load_visible(deps, p, app_id)
    choice = next((c for c in app["choices"] if c["offer_id"] == body["offer_id"]), None)
    if choice is None or not choice.get("creative"):
        raise Problem(
            422, "not_a_creative_choice", "Not a creative specialty of this application.",
            field="offer_id",
        )  # fmt: skip
    if not (common.is_admin(p) or common.is_college_officer(p, choice["college_id"])):
        raise common.forbidden("The college of that specialty records its exam.")
    op = "$addToSet" if body["passed"] else "$pull"
    deps.db[store.APPLICATIONS].update_one(
        {"_id": app_id}, {op: {"passed_exams": body["offer_id"]}}
    )
    results.refresh_key(deps, app_id)
    return view(deps, deps.db[store.APPLICATIONS].find_one({"_id": app_id}))
