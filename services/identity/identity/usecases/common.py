"""Small pieces the use cases share: code delivery, code checks, account lookups."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pymongo.client_session import ClientSession

from edu_common import outbox
from edu_common.web.problems import Problem
from identity import events, store
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
