"""Registration of a personal cabinet in five steps (seed 001): e-mail confirmed by a code,
personal data by IIN (or by hand for foreigners), mobile phone, password, review and create."""

from __future__ import annotations

import datetime as dt
import uuid

import phonenumbers
from pymongo.errors import DuplicateKeyError

from edu_common import mongo, outbox
from edu_common.kz.iin import IINError, mask_iin, parse_iin
from edu_common.web.problems import Problem
from identity import audit, events, guard, store
from identity.deps import Deps
from identity.domain import codes, passwords, roles, throttle
from identity.usecases.common import (
    announce_account,
    attempt_code,
    person_from_registry,
    request_code_delivery,
    state_from_doc,
    state_to_doc,
)

REGISTRATION_TTL = dt.timedelta(hours=24)
MAX_LOOKUPS = 3


def load(deps: Deps, registration_id: str) -> dict:
    doc = deps.db[store.REGISTRATIONS].find_one({"_id": registration_id})
    if doc is None or doc.get("completed_at"):
        raise Problem(404, "registration_not_found", "No such registration, or it has expired.")
    return doc


def _email_taken(deps: Deps, email: str) -> bool:
    return deps.db[store.ACCOUNTS].find_one({"email": email}, {"_id": 1}) is not None


def _taken_email_problem() -> Problem:
    return Problem(
        409,
        "email_taken",
        "A cabinet with this e-mail already exists. Recover access instead.",
        field="email",
        recovery="/password-resets",
    )


def view(doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "email": doc["email"],
        "email_confirmed": bool(doc.get("email_verified_at")),
        "person": doc.get("person"),
        "phone": doc.get("phone"),
        "password_set": bool(doc.get("password_hash")),
        "next_step": next_step(doc),
        "expires_at": doc["expires_at"],
        "warnings": doc.get("warnings", []),
    }


def next_step(doc: dict) -> str:
    if not doc.get("email_verified_at"):
        return "email_confirmation"
    if not doc.get("person"):
        return "person"
    if not doc.get("phone"):
        return "contacts"
    if not doc.get("password_hash"):
        return "password"
    return "complete"


def start(deps: Deps, email: str, language: str) -> dict:
    email = email.strip().lower()
    if _email_taken(deps, email):
        raise _taken_email_problem()
    guard.check(deps, f"regmail:{email}", throttle.EMAIL_CODE_PER_TARGET)
    now = deps.now()
    reg_id = uuid.uuid4().hex
    code, state = codes.new_code(now, deps.settings.code_pepper, reg_id)
    doc = {
        "_id": reg_id,
        "email": email,
        "language": language,
        "code": state_to_doc(state),
        "created_at": now,
        "expires_at": now + REGISTRATION_TTL,
    }

    def work(session):
        deps.db[store.REGISTRATIONS].insert_one(doc, session=session)
        request_code_delivery(
            deps,
            session,
            challenge_id=reg_id,
            purpose="email_confirmation",
            channel="email",
            to=email,
            code=code,
            language=language,
            expires_at=state.expires_at,
        )

    mongo.in_transaction(deps.db, work)
    # Each new registration for the same address counts against it, so nobody floods a mailbox.
    guard.failed(deps, f"regmail:{email}", throttle.EMAIL_CODE_PER_TARGET)
    return view(doc)


def resend_code(deps: Deps, registration_id: str) -> dict:
    doc = load(deps, registration_id)
    if doc.get("email_verified_at"):
        raise Problem(409, "email_already_confirmed", "The e-mail is already confirmed.")
    state = state_from_doc(doc["code"])
    allowed, retry_after = codes.can_resend(state, deps.now())
    if not allowed:
        if retry_after:
            raise Problem(
                429,
                "resend_too_soon",
                "Wait before asking for another code.",
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )
        raise Problem(429, "resend_limit", "No more codes for this registration. Start again.")
    code, new_state = codes.resend(state, deps.now(), deps.settings.code_pepper, doc["_id"])

    def work(session):
        deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"]}, {"$set": {"code": state_to_doc(new_state)}}, session=session
        )
        request_code_delivery(
            deps,
            session,
            challenge_id=doc["_id"],
            purpose="email_confirmation",
            channel="email",
            to=doc["email"],
            code=code,
            language=doc["language"],
            expires_at=new_state.expires_at,
        )

    mongo.in_transaction(deps.db, work)
    return view({**doc, "code": state_to_doc(new_state)})


def confirm_email(deps: Deps, registration_id: str, code: str, client: str | None = None) -> dict:
    doc = load(deps, registration_id)
    if doc.get("email_verified_at"):
        raise Problem(409, "code_used", "The e-mail is already confirmed.", field="code")
    changes = attempt_code(
        deps, store.REGISTRATIONS, doc, code, client, on_success={"email_verified_at": deps.now()}
    )
    return view({**doc, **changes})


def _parse_iin_field(value: str):
    try:
        return parse_iin(value)
    except IINError as exc:
        raise Problem(422, exc.code, str(exc), field="iin") from exc


def _looks_like_parent(deps: Deps, iin: str, birth_date: dt.date) -> list[dict]:
    """The cabinet is the applicant's own: warn when an adult with grown children registers."""
    today = deps.now().date()
    age = (today - birth_date).days // 365
    if age < 30:
        return []
    try:
        children = deps.registry.children_of(iin)
    except Exception:
        return []
    if any(c.age_on(today) >= 14 for c in children):
        return [
            {
                "code": "looks_like_parent",
                "message": "This IIN belongs to a parent. The cabinet must be registered by the "
                "applicant with the applicant's own IIN.",
            }
        ]
    return []


def set_person(deps: Deps, registration_id: str, data: dict) -> dict:
    doc = load(deps, registration_id)
    if not doc.get("email_verified_at"):
        raise Problem(409, "email_not_confirmed", "Confirm the e-mail first.", field="email")
    manual = "surname" in data
    iin = data.get("iin")
    parsed = _parse_iin_field(iin) if iin else None
    if iin and deps.db[store.ACCOUNTS].find_one({"iin": iin}, {"_id": 1}):
        raise Problem(
            409,
            "iin_taken",
            "A cabinet for this IIN already exists. Recover access instead.",
            field="iin",
            recovery="/password-resets",
        )
    if not manual:
        if parsed is None:
            raise Problem(422, "validation_failed", "Give the IIN.", field="iin")
        # The registry answers with personal data: a registration may look up a few IINs only.
        looked = deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"], "lookups": {"$not": {"$gte": MAX_LOOKUPS}}},
            {"$inc": {"lookups": 1}},
        )
        if not looked.matched_count:
            raise Problem(
                429, "too_many_lookups", "Too many IINs tried. Start again later.", field="iin"
            )
        person = deps.registry.find_person(parsed.value)
        if person is None:
            raise Problem(
                422,
                "iin_not_in_registry",
                "The population registry has no person with this IIN. Check it, or enter "
                "your data by hand if you are not a citizen.",
                field="iin",
            )
        record = person_from_registry(
            person,
            document=person.document,
            registered_address=person.registered_address,
            actual_address=person.actual_address,
        )
        birth_date = person.birth_date
    else:
        if data["citizenship"] == "KZ":
            raise Problem(
                422,
                "citizen_data_from_registry",
                "Citizens' data come from the population registry: give only the IIN.",
                field="citizenship",
            )
        birth_date = data["birth_date"]
        if parsed is not None:
            if parsed.birth_date != birth_date:
                raise Problem(
                    422,
                    "birth_date_contradicts_iin",
                    f"The IIN says the date of birth is {parsed.birth_date.isoformat()}.",
                    field="birth_date",
                )
            if parsed.sex != data["sex"]:
                raise Problem(422, "sex_contradicts_iin", "The IIN gives another sex.", field="sex")
        if birth_date > deps.now().date():
            raise Problem(422, "birth_date_in_future", "Not a possible date.", field="birth_date")
        record = {
            "iin": iin,
            "surname": data["surname"],
            "name": data["name"],
            "patronymic": data.get("patronymic"),
            "birth_date": birth_date.isoformat(),
            "sex": data["sex"],
            "citizenship": data["citizenship"],
            "document": {
                **data["document"],
                "issued_at": data["document"]["issued_at"].isoformat(),
            },
            "registered_address": data.get("registered_address"),
            "actual_address": data.get("actual_address"),
            "source": "manual",
        }
    warnings = _looks_like_parent(deps, iin, birth_date) if iin else []
    deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"]}, {"$set": {"person": record, "iin": iin, "warnings": warnings}}
    )
    return view({**doc, "person": record, "iin": iin, "warnings": warnings})


def normalise_phone(raw: str, field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(raw, "KZ")
    except phonenumbers.NumberParseException as exc:
        raise Problem(422, "phone_invalid", "Not a phone number.", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise Problem(422, "phone_invalid", "Not a valid phone number.", field=field)
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise Problem(422, "phone_not_mobile", "Give a mobile number.", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def set_contacts(deps: Deps, registration_id: str, phone: str) -> dict:
    doc = load(deps, registration_id)
    if not doc.get("person"):
        raise Problem(409, "person_missing", "Give the personal data first.", field="person")
    phone = normalise_phone(phone)
    deps.db[store.REGISTRATIONS].update_one({"_id": doc["_id"]}, {"$set": {"phone": phone}})
    return view({**doc, "phone": phone})


def policy_problem(deps: Deps, violations: list[str], lang: str, field: str) -> Problem:
    reasons = "; ".join(passwords.describe(v, lang, policy=deps.policy) for v in violations)
    return Problem(
        422,
        "password_policy",
        reasons,
        invalid_params=[{"name": field, "reason": reasons, "codes": violations}],
    )


def check_new_password(
    deps: Deps, password: str, confirmation: str, *, email, iin, lang, field="password"
) -> None:
    if password != confirmation:
        raise Problem(
            422,
            "password_mismatch",
            "The two passwords differ.",
            field=f"{field}_confirmation",
        )
    found = passwords.violations(password, policy=deps.policy, email=email, iin=iin)
    if found:
        raise policy_problem(deps, found, lang, field)


def set_password(deps: Deps, registration_id: str, password: str, confirmation: str) -> dict:
    doc = load(deps, registration_id)
    if not doc.get("phone"):
        raise Problem(409, "contacts_missing", "Give the mobile phone first.", field="phone")
    check_new_password(
        deps, password, confirmation, email=doc["email"], iin=doc.get("iin"), lang=doc["language"]
    )
    hashed = deps.hasher.hash(password)
    deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"]}, {"$set": {"password_hash": hashed}}
    )
    return view({**doc, "password_hash": hashed})


def complete(deps: Deps, registration_id: str, consents: dict, client: str | None) -> dict:
    doc = load(deps, registration_id)
    if next_step(doc) != "complete":
        raise Problem(
            409,
            "registration_incomplete",
            f"Finish the step '{next_step(doc)}' first.",
            next_step=next_step(doc),
        )
    for required in ("personal_data", "rules"):
        if consents.get(required) is not True:
            raise Problem(
                422,
                "consent_required",
                "This consent is needed to create the cabinet.",
                field=f"consents.{required}",
            )
    now = deps.now()
    account_id = uuid.uuid4().hex
    person = doc["person"]
    account = {
        "_id": account_id,
        "iin": doc.get("iin"),
        "email": doc["email"],
        "email_verified_at": doc["email_verified_at"],
        "phone": doc["phone"],
        "person": person,
        "roles": [roles.CITIZEN],
        "organization_id": None,
        "language": doc["language"],
        "password_hash": doc["password_hash"],
        "password_changed_at": now,
        "password_history": [doc["password_hash"]],
        "must_change_password": False,
        "consents": {
            name: {"given": bool(consents.get(name)), "at": now}
            for name in ("personal_data", "notifications", "rules")
        },
        "created_at": now,
        "origin": "self",
    }

    def work(session):
        deps.db[store.ACCOUNTS].insert_one(store.without_missing_keys(account), session=session)
        deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"], "completed_at": {"$exists": False}},
            {"$set": {"completed_at": now, "account_id": account_id}},
            session=session,
        )
        outbox.emit(
            deps.db,
            session,
            events.ACCOUNT_REGISTERED,
            {
                "account_id": account_id,
                "origin": "self",
                "roles": account["roles"],
                "organization_id": None,
                "iin_masked": mask_iin(doc["iin"]) if doc.get("iin") else None,
                "citizenship": person.get("citizenship"),
                "birth_year": int(person["birth_date"][:4]),
                "language": doc["language"],
            },
        )
        announce_account(deps, session, account_id)
        audit.record(
            deps,
            audit.ACCOUNT_CREATED,
            account_id=account_id,
            client=client,
            session=session,
            origin="self",
        )

    try:
        mongo.in_transaction(deps.db, work)
    except DuplicateKeyError as exc:
        message = str(exc)
        if "email" in message:
            raise _taken_email_problem() from exc
        raise Problem(
            409,
            "iin_taken",
            "A cabinet for this IIN already exists.",
            field="iin",
            recovery="/password-resets",
        ) from exc
    return {"account_id": account_id}
