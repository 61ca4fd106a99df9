"""Small pieces the use cases share: code delivery, code checks, account lookups."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession

from edu_common import mongo, outbox
from edu_common.web.problems import Problem
from identity import events, guard, store
from identity.deps import Deps
from identity.domain import codes, throttle
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
) -> dict:
    """Store a code challenge for an account and ask for its delivery, in one transaction."""
    challenge_id = challenge_id or uuid.uuid4().hex
    code, state = codes.new_code(deps.now(), deps.settings.code_pepper, challenge_id)

    def work(session):
        deps.db[store.CHALLENGES].insert_one(
            {
                "_id": challenge_id,
                "kind": kind,
                "account_id": account["_id"],
                "to": to,
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


def client_key(client: str | None) -> str:
    return f"code:client:{client or '-'}"


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
    attempt_code(deps, store.CHALLENGES, challenge, code, client)
    return challenge


def attempt_code(
    deps: Deps,
    collection: str,
    doc: dict,
    code: str,
    client: str | None,
    on_success: dict | None = None,
) -> dict:
    """Check a code held in doc["code"] and store the outcome; raise the problem if it failed.

    The write is a compare-and-set on the attempt count, so parallel guesses cannot share one
    try. Answers the fields written (with `on_success` when the code was right).
    """
    guard.check(deps, client_key(client), throttle.CODE_PER_CLIENT)
    state = state_from_doc(doc["code"])
    result, new_state = check_code(deps, state, code, doc["_id"])
    changes = {"code": state_to_doc(new_state)}
    if result is CheckResult.OK:
        changes.update(on_success or {})
    updated = deps.db[collection].update_one(
        {"_id": doc["_id"], "code.attempts": state.attempts, "code.used_at": state.used_at},
        {"$set": changes},
    )
    if not updated.matched_count:
        raise Problem(409, "concurrent_attempt", "Another attempt is in progress; try again.")
    if result is not CheckResult.OK:
        if result is CheckResult.WRONG:
            guard.failed(deps, client_key(client), throttle.CODE_PER_CLIENT)
        raise code_problem(result, attempts_left=codes.attempts_left(new_state))
    return changes


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
    }


def announce_account(deps: Deps, session: ClientSession, account_id: str) -> None:
    """Bump the account's revision and publish its new state, in the caller's transaction."""
    account = deps.db[store.ACCOUNTS].find_one_and_update(
        {"_id": account_id},
        {"$inc": {"revision": 1}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    outbox.emit(deps.db, session, events.ACCOUNT_CHANGED, account_state(account))
