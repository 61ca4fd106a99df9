"""Registration of a personal cabinet in five steps (seed 001), so that nobody registers as
someone else.

1. ``email_confirmation``: the e-mail, confirmed by a 6-digit code.
2. ``person``: the IIN. For an IIN the population registry knows, nothing of the person is
   shown, kept or said (not even whether the IIN has a cabinet) until the registrant proves
   the IIN is theirs (``person_confirmation``): with an SMS code sent to a phone the
   mobile-citizens database links to the IIN, or with a digital signature of a nonce by a
   certificate whose SERIALNUMBER carries the IIN. Data by hand are taken only for an IIN the
   registry does not know (a foreigner without a record); such a cabinet is not ``verified``
   until an operator checks the identity document.
3. ``contacts``: the mobile phone, confirmed by an SMS code (``contacts_confirmation``), unless
   it is the very phone the IIN proof code went to: that one counts as confirmed.
4. ``password``, entered twice. 5. ``complete``: the consents; the cabinet is created.

Every code follows the same rules (6 digits, 10 minutes, 5 tries, resend throttled), and the
SMS are limited per registration, per phone and per address (identity.limits).
"""

from __future__ import annotations

import datetime as dt
import uuid

import phonenumbers
from pymongo.errors import DuplicateKeyError

from edu_common import mongo, outbox
from edu_common.kz.iin import IIN, IINError, mask_iin, parse_iin
from edu_common.registry import RegistryError
from edu_common.web.problems import Problem
from identity import audit, events, guard, limits, store
from identity.adapters.eds import EdsError
from identity.deps import Deps
from identity.domain import codes, passwords, roles, throttle
from identity.usecases.common import (
    announce_account,
    attempt_code,
    check_signature,
    eds_field,
    mask_phone,
    new_eds_challenge,
    person_from_registry,
    request_code_delivery,
    state_from_doc,
    state_to_doc,
    take_eds_challenge,
    target_key,
)

REGISTRATION_TTL = dt.timedelta(hours=24)
# Nonces a registration may ask for to prove its IIN by signature, as many as codes it may send.
MAX_EDS_CHALLENGES = codes.MAX_SENDS
REG_EDS = "reg_eds"
# What step 2 sets; a new IIN clears it, and with it steps 3 and 4.
_FROM_STEP_2 = (
    "claim",
    "person",
    "iin",
    "verified",
    "warnings",
    "phone",
    "phone_code",
    "phone_confirmed_at",
    "phone_confirmed_by",
    "password_hash",
)


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


def _taken_iin_problem() -> Problem:
    return Problem(
        409,
        "iin_taken",
        "A cabinet for this IIN already exists. Recover access instead.",
        field="iin",
        recovery="/password-resets",
    )


def _proof_id(registration_id: str) -> str:
    """The id the IIN proof code is bound to (and announced under)."""
    return f"{registration_id}.iin"


def _phone_id(registration_id: str) -> str:
    return f"{registration_id}.phone"


def _registration_key(registration_id: str) -> str:
    """Wrong codes against one registration, across its e-mail, IIN and phone codes."""
    return f"code:reg:{registration_id}"


def _proof_view(claim: dict | None) -> dict | None:
    if not claim:
        return None
    code = claim.get("code")
    phones = claim.get("phones") or []
    index = claim.get("phone_index")
    sent_to = phones[index] if code and index is not None else None
    return {
        "iin_masked": mask_iin(claim["iin"]),
        "methods": claim["methods"],
        "phones": [mask_phone(p) for p in phones],
        "sms_sent_to": mask_phone(sent_to) if sent_to else None,
        "code_expires_at": code["expires_at"] if code else None,
        "confirmed": bool(claim.get("proven_at")),
        "method": claim.get("method"),
    }


def view(doc: dict) -> dict:
    person = doc.get("person")
    return {
        "id": doc["_id"],
        "email": doc["email"],
        "email_confirmed": bool(doc.get("email_verified_at")),
        "iin_proof": _proof_view(doc.get("claim")),
        "person": person,
        "verified": bool(doc.get("verified")) if person else None,
        "phone": doc.get("phone"),
        "phone_confirmed": bool(doc.get("phone_confirmed_at")),
        "phone_confirmed_by": doc.get("phone_confirmed_by"),
        "password_set": bool(doc.get("password_hash")),
        "next_step": next_step(doc),
        "expires_at": doc["expires_at"],
        "warnings": doc.get("warnings", []),
    }


def next_step(doc: dict) -> str:
    if not doc.get("email_verified_at"):
        return "email_confirmation"
    if not doc.get("person"):
        claim = doc.get("claim")
        if claim and not claim.get("proven_at"):
            return "person_confirmation"
        return "person"
    if not doc.get("phone"):
        return "contacts"
    if not doc.get("phone_confirmed_at"):
        return "contacts_confirmation"
    if not doc.get("password_hash"):
        return "password"
    return "complete"


def _resend_problem(retry_after: int) -> Problem:
    if retry_after:
        return Problem(
            429,
            "resend_too_soon",
            "Wait before asking for another code.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
    return Problem(429, "resend_limit", "No more codes for this step. Start again.")


def _next_code(deps: Deps, current: dict | None, hash_id: str) -> tuple[str, codes.CodeState]:
    """A first code, or a resend under the resend rules (one a minute, five in all)."""
    now = deps.now()
    if current is None:
        return codes.new_code(now, deps.settings.code_pepper, hash_id)
    state = state_from_doc(current)
    allowed, retry_after = codes.can_resend(state, now)
    if not allowed:
        raise _resend_problem(retry_after)
    return codes.resend(state, now, deps.settings.code_pepper, hash_id)


# --- step 1: the e-mail ---------------------------------------------------------------------
def start(deps: Deps, email: str, language: str, client: str | None = None) -> dict:
    email = email.strip().lower()
    if _email_taken(deps, email):
        raise _taken_email_problem()
    guard.check(deps, f"regmail:{email}", throttle.EMAIL_CODE_PER_TARGET)
    limits.take(deps, "email_confirmation", limits.email_from_address(deps, client))
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


def resend_code(deps: Deps, registration_id: str, client: str | None = None) -> dict:
    doc = load(deps, registration_id)
    if doc.get("email_verified_at"):
        raise Problem(409, "email_already_confirmed", "The e-mail is already confirmed.")
    code, new_state = _next_code(deps, doc["code"], doc["_id"])
    limits.take(deps, "email_confirmation", limits.email_from_address(deps, client))

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
        deps,
        store.REGISTRATIONS,
        doc,
        code,
        client,
        on_success={"email_verified_at": deps.now()},
        targets=[target_key(doc["email"]), _registration_key(doc["_id"])],
    )
    return view({**doc, **changes})


# --- step 2: who the person is --------------------------------------------------------------
def _parse_iin_field(value: str) -> IIN:
    try:
        return parse_iin(value)
    except IINError as exc:
        raise Problem(422, exc.code, str(exc), field="iin") from exc


def _registry_unavailable() -> Problem:
    return Problem(
        503,
        "registry_unavailable",
        "The population registry does not answer. Try again in a few minutes.",
        headers={"Retry-After": "30"},
    )


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


def _manual_record(deps: Deps, parsed: IIN, data: dict) -> dict:
    """A foreigner's data as entered, checked against what the IIN itself says (never against
    anyone's registry record)."""
    if data["citizenship"] == "KZ":
        raise Problem(
            422,
            "citizen_data_from_registry",
            "Citizens' data come from the population registry: give only the IIN.",
            field="citizenship",
        )
    birth_date = data["birth_date"]
    if parsed.birth_date != birth_date:
        raise Problem(
            422,
            "birth_date_contradicts_iin",
            "The date of birth does not agree with the IIN.",
            field="birth_date",
        )
    if parsed.sex != data["sex"]:
        raise Problem(422, "sex_contradicts_iin", "The IIN gives another sex.", field="sex")
    if birth_date > deps.now().date():
        raise Problem(422, "birth_date_in_future", "Not a possible date.", field="birth_date")
    return {
        "iin": parsed.value,
        "surname": data["surname"],
        "name": data["name"],
        "patronymic": data.get("patronymic"),
        "birth_date": birth_date.isoformat(),
        "sex": data["sex"],
        "citizenship": data["citizenship"],
        "document": {**data["document"], "issued_at": data["document"]["issued_at"].isoformat()},
        "registered_address": data.get("registered_address"),
        "actual_address": data.get("actual_address"),
        "source": "manual",
    }


def _count_lookup(deps: Deps, doc: dict, client: str | None) -> None:
    """Every IIN tried counts, against the registration and the address: what the registry
    answers (known or not, the phone hints) is about a person."""
    most = deps.settings.registration_max_iins
    looked = deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"], "lookups": {"$not": {"$gte": most}}}, {"$inc": {"lookups": 1}}
    )
    if not looked.matched_count:
        limits.reached("iin_lookup", "registration")
        raise Problem(
            429, "too_many_lookups", "Too many IINs tried. Start again later.", field="iin"
        )
    limits.take(deps, "iin_lookup", limits.lookups_from_address(deps, client))


def _restart_from_step_2(deps: Deps, doc: dict, changes: dict) -> dict:
    unset = {k: "" for k in _FROM_STEP_2 if k not in changes}
    deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"]}, {"$set": changes, **({"$unset": unset} if unset else {})}
    )
    kept = {k: v for k, v in doc.items() if k not in _FROM_STEP_2}
    return {**kept, **changes}


def set_person(deps: Deps, registration_id: str, data: dict, client: str | None = None) -> dict:
    """Step 2. Answers the registration: by IIN, with only the proof to give (the phone hints,
    the methods); by hand, with the data as entered."""
    doc = load(deps, registration_id)
    if not doc.get("email_verified_at"):
        raise Problem(409, "email_not_confirmed", "Confirm the e-mail first.", field="email")
    parsed = _parse_iin_field(data["iin"])
    manual = "surname" in data
    _count_lookup(deps, doc, client)
    try:
        person = deps.registry.find_person(parsed.value)
        phones = deps.registry.phones_for(parsed.value) if person is not None else []
    except RegistryError as exc:
        raise _registry_unavailable() from exc
    if person is None:
        if not manual:
            raise Problem(
                422,
                "iin_not_in_registry",
                "The population registry has no person with this IIN. Check it, or enter "
                "your data by hand if you are not a citizen.",
                field="iin",
            )
        # Whether this IIN already has a cabinet is told only when the cabinet is created.
        record = _manual_record(deps, parsed, data)
        changes = {"person": record, "iin": parsed.value, "verified": False, "warnings": []}
        return view(_restart_from_step_2(deps, doc, changes))
    if manual:
        raise Problem(
            422,
            "iin_in_registry",
            "This IIN is in the population registry: give only the IIN, then prove it is "
            "yours with a code sent to your phone or with a digital signature.",
            field="iin",
        )
    phones = [str(p) for p in phones if isinstance(p, str) and p.startswith("+")]
    methods = (["sms"] if phones else []) + (["eds"] if deps.eds is not None else [])
    if not methods:
        raise Problem(
            422,
            "iin_proof_unavailable",
            "No phone is linked to this IIN in the mobile-citizens database. Link one at a "
            "public service centre, or register with a digital signature.",
            field="iin",
        )
    claim = {
        "iin": parsed.value,
        "phones": phones,
        "methods": methods,
        "phone_index": None,
        "code": None,
        "proven_at": None,
        "method": None,
        "eds_challenges": 0,
    }
    doc = _restart_from_step_2(deps, doc, {"claim": claim})
    if data.get("proof", "sms") == "sms" and "sms" in methods:
        doc = _send_proof_code(deps, doc, data.get("phone_index", 0), client)
    return view(doc)


def _take_registration_sms(
    deps: Deps, doc: dict, purpose: str, phone: str, client: str | None
) -> None:
    """One SMS of this registration: within its own cap and the phone's and address's."""
    most = deps.settings.registration_max_sms
    if doc.get("sms_sent", 0) >= most:
        limits.reached(purpose, "registration")
        raise Problem(429, "code_limit", "No more SMS for this registration. Start again later.")
    limits.take(
        deps, purpose, limits.sms_to_phone(deps, phone), limits.sms_from_address(deps, client)
    )
    counted = deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"], "sms_sent": {"$not": {"$gte": most}}}, {"$inc": {"sms_sent": 1}}
    )
    if not counted.matched_count:
        limits.reached(purpose, "registration")
        raise Problem(429, "code_limit", "No more SMS for this registration. Start again later.")


def _pending_claim(doc: dict) -> dict:
    if not doc.get("email_verified_at"):
        raise Problem(409, "email_not_confirmed", "Confirm the e-mail first.", field="email")
    claim = doc.get("claim")
    if not claim or claim.get("proven_at"):
        raise Problem(
            409,
            "iin_proof_not_pending",
            "Give the IIN first (step 2): there is nothing to prove.",
            field="iin",
        )
    return claim


def _send_proof_code(deps: Deps, doc: dict, phone_index: int, client: str | None) -> dict:
    claim = doc["claim"]
    if "sms" not in claim["methods"]:
        raise Problem(
            409, "sms_unavailable", "No phone is linked to this IIN: use a digital signature."
        )
    if not 0 <= phone_index < len(claim["phones"]):
        raise Problem(
            422, "phone_index_invalid", "Choose one of the phones shown.", field="phone_index"
        )
    phone = claim["phones"][phone_index]
    hash_id = _proof_id(doc["_id"])
    code, state = _next_code(deps, claim.get("code"), hash_id)
    _take_registration_sms(deps, doc, "iin_confirmation", phone, client)
    changes = {"claim.code": state_to_doc(state), "claim.phone_index": phone_index}

    def work(session):
        deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"]}, {"$set": changes}, session=session
        )
        request_code_delivery(
            deps,
            session,
            challenge_id=hash_id,
            purpose="iin_confirmation",
            channel="sms",
            to=phone,
            code=code,
            language=doc["language"],
            expires_at=state.expires_at,
        )

    mongo.in_transaction(deps.db, work)
    new_claim = {**claim, "code": state_to_doc(state), "phone_index": phone_index}
    return {**doc, "claim": new_claim}


def send_person_code(
    deps: Deps, registration_id: str, phone_index: int = 0, client: str | None = None
) -> dict:
    """The IIN proof code again (or first, after choosing to sign), to one of the linked
    phones: one a minute, five in all."""
    doc = load(deps, registration_id)
    _pending_claim(doc)
    return view(_send_proof_code(deps, doc, phone_index, client))


def person_eds_challenge(deps: Deps, registration_id: str) -> dict:
    """A nonce for the registrant to sign with a certificate carrying the IIN they gave."""
    doc = load(deps, registration_id)
    claim = _pending_claim(doc)
    if "eds" not in claim["methods"]:
        raise Problem(503, "eds_unavailable", "Digital signatures are not set up.")
    counted = deps.db[store.REGISTRATIONS].update_one(
        {"_id": doc["_id"], "claim.eds_challenges": {"$lt": MAX_EDS_CHALLENGES}},
        {"$inc": {"claim.eds_challenges": 1}},
    )
    if not counted.matched_count:
        raise Problem(429, "too_many_challenges", "Too many signature attempts. Start again.")
    return new_eds_challenge(deps, REG_EDS, registration_id=doc["_id"])


def confirm_person(deps: Deps, registration_id: str, body: dict, client: str | None = None):
    """Step 2 proven: by the SMS code, or by a signature of this registration's nonce. Only now
    are the registry's data shown and kept, and only now is a taken IIN told."""
    doc = load(deps, registration_id)
    claim = _pending_claim(doc)
    try:
        person = deps.registry.find_person(claim["iin"])
    except RegistryError as exc:
        raise _registry_unavailable() from exc
    now = deps.now()
    if "code" in body:
        if not claim.get("code"):
            raise Problem(409, "code_not_sent", "Ask for the code first.", field="code")
        phone = claim["phones"][claim["phone_index"]]
        proven = {"claim.proven_at": now, "claim.method": "sms", "claim.proof_phone": phone}
        attempt_code(
            deps,
            store.REGISTRATIONS,
            doc,
            body["code"],
            client,
            on_success=proven,
            field="claim.code",
            hash_id=_proof_id(doc["_id"]),
            targets=[target_key(phone), _registration_key(doc["_id"])],
        )
    else:
        challenge = take_eds_challenge(
            deps, body["challenge_id"], REG_EDS, registration_id=doc["_id"]
        )
        cms = body.get("cms")
        try:
            signer = check_signature(
                deps,
                challenge["nonce"],
                certificate=body.get("certificate"),
                signature=body.get("signature"),
                cms=cms,
            )
        except EdsError as exc:
            raise Problem(422, exc.code, str(exc), field=eds_field(exc.code, cms)) from exc
        if signer.iin != claim["iin"]:
            raise Problem(
                422,
                "eds_iin_mismatch",
                "The certificate belongs to another IIN than the one given.",
                field="cms" if cms is not None else "certificate",
            )
        proven = {"claim.proven_at": now, "claim.method": "eds", "claim.proof_phone": None}
        deps.db[store.REGISTRATIONS].update_one({"_id": doc["_id"]}, {"$set": proven})
    if person is None:  # the registry forgot the person between the two steps
        raise Problem(422, "iin_not_in_registry", "The registry no longer knows this IIN.")
    if deps.db[store.ACCOUNTS].find_one({"iin": claim["iin"]}, {"_id": 1}):
        raise _taken_iin_problem()
    record = person_from_registry(
        person,
        document=person.document,
        registered_address=person.registered_address,
        actual_address=person.actual_address,
    )
    changes = {
        "person": record,
        "iin": claim["iin"],
        "verified": True,
        "warnings": _looks_like_parent(deps, claim["iin"], person.birth_date),
    }
    deps.db[store.REGISTRATIONS].update_one({"_id": doc["_id"]}, {"$set": changes})
    return view(load(deps, registration_id))


# --- step 3: the phone ----------------------------------------------------------------------
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


def _send_phone_code(deps: Deps, doc: dict, phone: str, client: str | None) -> dict:
    hash_id = _phone_id(doc["_id"])
    current = doc.get("phone_code") if doc.get("phone") == phone else None
    code, state = _next_code(deps, current, hash_id)
    _take_registration_sms(deps, doc, "phone_confirmation", phone, client)

    def work(session):
        deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"]},
            {
                "$set": {"phone": phone, "phone_code": state_to_doc(state)},
                "$unset": {"phone_confirmed_at": "", "phone_confirmed_by": ""},
            },
            session=session,
        )
        request_code_delivery(
            deps,
            session,
            challenge_id=hash_id,
            purpose="phone_confirmation",
            channel="sms",
            to=phone,
            code=code,
            language=doc["language"],
            expires_at=state.expires_at,
        )

    mongo.in_transaction(deps.db, work)
    kept = {k: v for k, v in doc.items() if k not in ("phone_confirmed_at", "phone_confirmed_by")}
    return {**kept, "phone": phone, "phone_code": state_to_doc(state)}


def set_contacts(deps: Deps, registration_id: str, phone: str, client: str | None = None) -> dict:
    """Step 3: the mobile phone. A code goes to it, unless it is the phone the IIN proof code
    went to, which is confirmed already (phone_confirmed_by: iin_proof)."""
    doc = load(deps, registration_id)
    if not doc.get("person"):
        raise Problem(409, "person_missing", "Give the personal data first.", field="person")
    phone = normalise_phone(phone)
    if (doc.get("claim") or {}).get("proof_phone") == phone:
        changes = {
            "phone": phone,
            "phone_confirmed_at": deps.now(),
            "phone_confirmed_by": "iin_proof",
        }
        deps.db[store.REGISTRATIONS].update_one(
            {"_id": doc["_id"]}, {"$set": changes, "$unset": {"phone_code": ""}}
        )
        return view({**{k: v for k, v in doc.items() if k != "phone_code"}, **changes})
    if doc.get("phone") == phone and doc.get("phone_confirmed_at"):
        return view(doc)
    return view(_send_phone_code(deps, doc, phone, client))


def send_phone_code(deps: Deps, registration_id: str, client: str | None = None) -> dict:
    doc = load(deps, registration_id)
    if not doc.get("phone"):
        raise Problem(409, "contacts_missing", "Give the mobile phone first.", field="phone")
    if doc.get("phone_confirmed_at"):
        raise Problem(409, "phone_already_confirmed", "The phone is already confirmed.")
    return view(_send_phone_code(deps, doc, doc["phone"], client))


def confirm_phone(deps: Deps, registration_id: str, code: str, client: str | None = None) -> dict:
    doc = load(deps, registration_id)
    if not doc.get("phone"):
        raise Problem(409, "contacts_missing", "Give the mobile phone first.", field="phone")
    if doc.get("phone_confirmed_at"):
        raise Problem(409, "code_used", "The phone is already confirmed.", field="code")
    if not doc.get("phone_code"):
        raise Problem(409, "code_not_sent", "Ask for the code first.", field="code")
    changes = attempt_code(
        deps,
        store.REGISTRATIONS,
        doc,
        code,
        client,
        on_success={"phone_confirmed_at": deps.now(), "phone_confirmed_by": "code"},
        field="phone_code",
        hash_id=_phone_id(doc["_id"]),
        targets=[target_key(doc["phone"]), _registration_key(doc["_id"])],
    )
    return view({**doc, **changes})


# --- step 4: the password -------------------------------------------------------------------
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


# --- step 5: the cabinet --------------------------------------------------------------------
def complete(deps: Deps, registration_id: str, consents: dict, client: str | None) -> dict:
    doc = load(deps, registration_id)
    step = next_step(doc)
    if step == "contacts_confirmation":
        raise Problem(
            422,
            "phone_not_confirmed",
            "Confirm the mobile phone with the code sent to it first.",
            field="phone",
            next_step=step,
        )
    if step != "complete":
        raise Problem(
            409, "registration_incomplete", f"Finish the step '{step}' first.", next_step=step
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
    verified = bool(doc.get("verified"))
    claim = doc.get("claim") or {}
    account = {
        "_id": account_id,
        "iin": doc.get("iin"),
        "email": doc["email"],
        "email_verified_at": doc["email_verified_at"],
        "phone": doc["phone"],
        "phone_verified_at": doc["phone_confirmed_at"],
        "person": person,
        "roles": [roles.CITIZEN],
        "organization_id": None,
        "language": doc["language"],
        "password_hash": doc["password_hash"],
        "password_changed_at": now,
        "password_history": [doc["password_hash"]],
        "must_change_password": False,
        "verified": verified,
        "verification": (
            {"method": f"registry_{claim.get('method')}", "at": claim.get("proven_at")}
            if verified
            else None
        ),
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
            verified=verified,
        )

    try:
        mongo.in_transaction(deps.db, work)
    except DuplicateKeyError as exc:
        if "email" in str(exc):
            raise _taken_email_problem() from exc
        raise _taken_iin_problem() from exc
    return {"account_id": account_id}
