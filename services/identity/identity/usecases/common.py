"""Small pieces the use cases share: code delivery, code checks, account lookups."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession

from edu_common import mongo, outbox
from edu_common.web.problems import Problem
from identity import events, guard, store
from identity.adapters.eds import BAD_SIGNATURE, EdsIdentity
from identity.deps import Deps
from identity.domain import codes
from identity.domain.codes import CheckResult, CodeState


def state_to_doc(state: CodeState) -> dict:
    return dataclasses.asdict(state)


def state_from_doc(doc: dict) -> CodeState:
    return CodeState(**doc)


def request_code_delivery(
    deps: Deps,
    session: ClientSession,
    *,
    challenge_id: str,
    purpose: str,
    channel: str,
    to: str,
    code: str,
    language: str,
    expires_at: dt.datetime,
    account_id: str | None = None,
) -> None:
    outbox.emit(
        deps.db,
        session,
        events.CODE_REQUESTED,
        {
            "challenge_id": challenge_id,
            "purpose": purpose,
            "channel": channel,
            "to": to,
            "code": code,
            "language": language,
            "expires_at": expires_at,
            "account_id": account_id,
        },
    )


_CODE_PROBLEMS = {
    CheckResult.WRONG: (422, "code_wrong", "The code is not right."),
    CheckResult.EXPIRED: (410, "code_expired", "The code has expired. Ask for a new one."),
    CheckResult.EXHAUSTED: (
        410,
        "code_attempts_exhausted",
        "Too many wrong codes. Ask for a new one.",
    ),
    CheckResult.USED: (409, "code_used", "This code has already been used."),
}


def code_problem(result: CheckResult, field: str = "code", **extra) -> Problem:
    status, code, detail = _CODE_PROBLEMS[result]
    return Problem(status, code, detail, field=field, **extra)


def check_code(deps: Deps, state: CodeState, code: str, challenge_id: str):
    return codes.check(state, code, deps.now(), deps.settings.code_pepper, challenge_id)


def find_account_by_iin(deps: Deps, iin: str) -> dict | None:
    return deps.db[store.ACCOUNTS].find_one({"iin": iin})


def find_account(deps: Deps, account_id: str) -> dict | None:
    return deps.db[store.ACCOUNTS].find_one({"_id": account_id})


def language_of(account: dict | None, fallback: str = "ru") -> str:
    return (account or {}).get("language") or fallback


def open_code_challenge(
    deps: Deps,
    *,
    kind: str,
    purpose: str,
    account: dict,
    channel: str,
    to: str,
    challenge_id: str | None = None,
    guess_key: str | None = None,
) -> dict:
    """Store a code challenge for an account and ask for its delivery, in one transaction.
    `guess_key` is the throttle key wrong codes count against across challenges (the phone or
    e-mail it went to, unless the caller asked by something else)."""
    challenge_id = challenge_id or uuid.uuid4().hex
    code, state = codes.new_code(deps.now(), deps.settings.code_pepper, challenge_id)

    def work(session):
        deps.db[store.CHALLENGES].insert_one(
            {
                "_id": challenge_id,
                "kind": kind,
                "account_id": account["_id"],
                "to": to,
                "guess_key": guess_key or target_key(to),
                "code": state_to_doc(state),
                # Kept a little past the code's own expiry, to answer "expired", not "unknown".
                "expires_at": state.expires_at + dt.timedelta(minutes=5),
            },
            session=session,
        )
        request_code_delivery(
            deps,
            session,
            challenge_id=challenge_id,
            purpose=purpose,
            channel=channel,
            to=to,
            code=code,
            language=language_of(account),
            expires_at=state.expires_at,
            account_id=account["_id"],
        )

    mongo.in_transaction(deps.db, work)
    return {"challenge_id": challenge_id, "expires_at": state.expires_at}


def open_decoy_challenge(
    deps: Deps, *, kind: str, guess_key: str, challenge_id: str | None = None
) -> dict:
    """A challenge that looks and fails like a real one but was sent to nobody: the answer when
    telling the truth would say whether an account or a linked phone exists. Its hash is of a
    random secret that is no 6-digit code, so no code ever matches it."""
    challenge_id = challenge_id or uuid.uuid4().hex
    _, state = codes.new_code(deps.now(), deps.settings.code_pepper, challenge_id)
    pepper = deps.settings.code_pepper
    unguessable = codes.hash_code(secrets.token_urlsafe(32), pepper, challenge_id)
    state = dataclasses.replace(state, code_hash=unguessable)
    deps.db[store.CHALLENGES].insert_one(
        {
            "_id": challenge_id,
            "kind": kind,
            "account_id": None,
            "to": None,
            "guess_key": guess_key,
            "code": state_to_doc(state),
            "expires_at": state.expires_at + dt.timedelta(minutes=5),
        }
    )
    return {"challenge_id": challenge_id, "expires_at": state.expires_at}


EDS_CHALLENGE_TTL = dt.timedelta(minutes=5)


def _eds_unavailable() -> Problem:
    return Problem(503, "eds_unavailable", "Digital signatures are not set up.")


def new_eds_challenge(deps: Deps, kind: str, **extra) -> dict:
    """A nonce to sign (valid 5 minutes, once); `extra` binds it (to a registration, say)."""
    if deps.eds is None:
        raise _eds_unavailable()
    challenge_id = uuid.uuid4().hex
    nonce = secrets.token_urlsafe(32)
    expires_at = deps.now() + EDS_CHALLENGE_TTL
    deps.db[store.CHALLENGES].insert_one(
        {
            "_id": challenge_id,
            "kind": kind,
            "nonce": nonce,
            "used_at": None,
            "expires_at": expires_at,
            **extra,
        }
    )
    return {"challenge_id": challenge_id, "nonce": nonce, "expires_at": expires_at}


def take_eds_challenge(deps: Deps, challenge_id: str, kind: str, **match) -> dict:
    """The challenge, used up: once, whatever the outcome, before the signature is checked."""
    if deps.eds is None:
        raise _eds_unavailable()
    now = deps.now()
    challenge = deps.db[store.CHALLENGES].find_one_and_update(
        {"_id": challenge_id, "kind": kind, "used_at": None, "expires_at": {"$gt": now}, **match},
        {"$set": {"used_at": now}},
    )
    if challenge is None:
        raise Problem(
            410,
            "challenge_used_or_expired",
            "This challenge was used or has expired. Ask for a new one.",
            field="challenge_id",
        )
    return challenge


def check_signature(
    deps: Deps,
    nonce: str,
    *,
    certificate: str | None = None,
    signature: str | None = None,
    cms: str | None = None,
) -> EdsIdentity:
    """The signer of the nonce (raises EdsError): a CMS, or a certificate and a raw signature;
    the same chain, key-usage, validity and revocation checks either way."""
    if cms is not None:
        return deps.eds.verify_cms(cms, nonce, now=deps.now())
    return deps.eds.verify(certificate, signature, nonce, now=deps.now())


def eds_field(error_code: str, cms: str | None) -> str:
    """The request field a signature error is about."""
    if cms is not None:
        return "cms"
    return "signature" if error_code == BAD_SIGNATURE else "certificate"


def client_key(client: str | None) -> str:
    return f"code:client:{client or '-'}"


def target_key(to: str) -> str:
    """Wrong codes against one phone or e-mail, across all its challenges."""
    return f"code:to:{to}"


def consume_code(
    deps: Deps, kind: str, challenge_id: str, code: str, client: str | None = None
) -> dict:
    challenge = deps.db[store.CHALLENGES].find_one({"_id": challenge_id, "kind": kind})
    if challenge is None:
        raise Problem(
            404,
            "challenge_not_found",
            "No such code request, or it has expired.",
            field="challenge_id",
        )
    key = challenge.get("guess_key")
    if key is None and challenge.get("to"):
        key = target_key(challenge["to"])
    targets = [key] if key else []
    attempt_code(deps, store.CHALLENGES, challenge, code, client, targets=targets)
    return challenge


def _state_at(doc: dict, field: str) -> dict:
    for part in field.split("."):
        doc = doc[part]
    return doc


def attempt_code(
    deps: Deps,
    collection: str,
    doc: dict,
    code: str,
    client: str | None,
    on_success: dict | None = None,
    *,
    field: str = "code",
    hash_id: str | None = None,
    targets: list[str] = (),
) -> dict:
    """Check a code held in doc[field] (a dotted path) and store the outcome; raise the problem
    if it failed. `hash_id` is the id the code's hash is bound to (the document's own by
    default); `targets` are throttle keys (phone, e-mail, registration) that wrong codes count
    against across challenges, beside the client address.

    The write is a compare-and-set on the attempt count, so parallel guesses cannot share one
    try. Answers the fields written (with `on_success` when the code was right).
    """
    per_client = deps.settings.code_failures_per_address
    per_target = deps.settings.code_guesses_per_target
    guard.check(deps, client_key(client), per_client)
    for key in targets:
        guard.check(deps, key, per_target)
    state = state_from_doc(_state_at(doc, field))
    result, new_state = check_code(deps, state, code, hash_id or doc["_id"])
    changes = {field: state_to_doc(new_state)}
    if result is CheckResult.OK:
        changes.update(on_success or {})
    updated = deps.db[collection].update_one(
        {"_id": doc["_id"], f"{field}.attempts": state.attempts, f"{field}.used_at": state.used_at},
        {"$set": changes},
    )
    if not updated.matched_count:
        raise Problem(409, "concurrent_attempt", "Another attempt is in progress; try again.")
    if result is not CheckResult.OK:
        if result is CheckResult.WRONG:
            guard.failed(deps, client_key(client), per_client)
            for key in targets:
                guard.failed(deps, key, per_target)
        raise code_problem(result, attempts_left=codes.attempts_left(new_state))
    return changes


def mask_phone(phone: str) -> str:
    """A phone as a hint that lets its owner recognise it: +7 701 ***-**-01."""
    if phone.startswith("+7") and len(phone) == 12:
        return f"+7 {phone[2:5]} ***-**-{phone[-2:]}"
    visible = phone[-2:]
    return phone[:3] + "*" * max(0, len(phone) - 5) + visible


def person_from_registry(person, **extra) -> dict:
    """The personal data a cabinet keeps, as the population registry gives them."""
    return {
        "iin": person.iin,
        "surname": person.surname,
        "name": person.name,
        "patronymic": person.patronymic,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "citizenship": person.citizenship,
        "source": "registry",
        **extra,
    }


def account_state(account: dict) -> dict:
    """The payload of identity.account.changed.v1: the account as other services may copy it."""
    person = account.get("person") or {}
    name = " ".join(
        part
        for part in (person.get("surname"), person.get("name"), person.get("patronymic"))
        if part
    )
    consent = (account.get("consents") or {}).get("notifications") or {}
    return {
        "account_id": account["_id"],
        "revision": account.get("revision", 1),
        "iin": account.get("iin"),
        "full_name": name or None,
        "birth_date": person.get("birth_date"),
        "roles": account["roles"],
        "organization_id": account.get("organization_id"),
        "phone": account.get("phone"),
        "email": account.get("email"),
        "language": account.get("language", "ru"),
        "active": not account.get("disabled", False),
        # Staff accounts made by an admin have no consent record: work messages go to them.
        "notifications_consent": consent.get("given", True),
        "verified": is_verified(account),
    }


def is_verified(account: dict) -> bool:
    """Whether the person behind the account is known to be who they say: proven against the
    population registry, made by staff, or checked from the identity document by an operator.
    A cabinet registered with data by hand is not, until an operator verifies it."""
    if "verified" in account:
        return bool(account["verified"])
    # Accounts from before the IIN was proven at registration: a self-registered one never was
    # (signing in by SMS code or signature proves it now); staff made theirs knowingly.
    return account.get("origin") in ("staff", "bootstrap")


def announce_account(deps: Deps, session: ClientSession, account_id: str) -> None:
    """Bump the account's revision and publish its new state, in the caller's transaction."""
    account = deps.db[store.ACCOUNTS].find_one_and_update(
        {"_id": account_id},
        {"$inc": {"revision": 1}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    outbox.emit(deps.db, session, events.ACCOUNT_CHANGED, account_state(account))
