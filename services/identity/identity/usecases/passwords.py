"""Changing a password, and recovering a forgotten one through the verified e-mail or phone."""

from __future__ import annotations

import uuid

from edu_common import mongo, outbox
from edu_common.kz.iin import is_valid_iin
from edu_common.web.problems import Problem
from identity import audit, events, guard, limits, store
from identity.deps import Deps
from identity.domain import passwords, throttle
from identity.usecases.common import (
    consume_code,
    find_account,
    language_of,
    open_code_challenge,
    open_decoy_challenge,
)
from identity.usecases.common import target_key as target_key_for
from identity.usecases.registration import check_new_password
from identity.usecases.sessions import end_sessions


def _store_new_password(
    deps: Deps,
    account: dict,
    new_password: str,
    confirmation: str,
    reason: str,
    keep_session: str | None,
) -> int:
    check_new_password(
        deps,
        new_password,
        confirmation,
        email=account.get("email"),
        iin=account.get("iin"),
        lang=language_of(account),
        field="new_password",
    )
    history = account.get("password_history") or [account["password_hash"]]
    if passwords.reuses_recent(new_password, history, deps.hasher):
        raise Problem(
            422,
            "password_reused",
            f"Choose a password you have not used among your last {passwords.HISTORY_DEPTH}.",
            field="new_password",
        )
    hashed = deps.hasher.hash(new_password)
    now = deps.now()
    ended = 0

    def work(session):
        nonlocal ended
        deps.db[store.ACCOUNTS].update_one(
            {"_id": account["_id"]},
            {
                "$set": {
                    "password_hash": hashed,
                    "password_changed_at": now,
                    "must_change_password": False,
                },
                "$push": {
                    "password_history": {
                        "$each": [hashed],
                        "$position": 0,
                        "$slice": passwords.HISTORY_DEPTH,
                    }
                },
            },
            session=session,
        )
        ended = end_sessions(
            deps,
            account["_id"],
            reason=f"password_{reason}",
            keep_session=keep_session,
            session=session,
        )
        outbox.emit(
            deps.db,
            session,
            events.PASSWORD_CHANGED,
            {"account_id": account["_id"], "reason": reason, "sessions_ended": ended},
        )
        kind = audit.PASSWORD_RESET if reason == "reset" else audit.PASSWORD_CHANGED
        audit.record(deps, kind, account_id=account["_id"], session=session, sessions_ended=ended)

    mongo.in_transaction(deps.db, work)
    return ended


def change_password(
    deps: Deps,
    account_id: str,
    session_id: str | None,
    current: str,
    new: str,
    confirmation: str,
) -> dict:
    account = find_account(deps, account_id)
    if account is None:
        raise Problem(404, "account_not_found")
    key = f"pwchange:{account_id}"
    guard.check(deps, key, throttle.PASSWORD_PER_ACCOUNT)
    if not deps.hasher.verify(account["password_hash"], current):
        guard.failed(deps, key, throttle.PASSWORD_PER_ACCOUNT)
        raise Problem(
            422,
            "current_password_wrong",
            "The current password is not right.",
            field="current_password",
        )
    guard.succeeded(deps, key)
    reason = "first" if account.get("must_change_password") else "change"
    ended = _store_new_password(deps, account, new, confirmation, reason, session_id)
    return {"changed": True, "other_sessions_ended": ended}


def start_reset(deps: Deps, email: str | None, iin: str | None, client: str | None = None):
    """Always the same answer, whether or not the account exists: an id to complete with, and
    wrong codes against it fail alike. A code goes out only to a real account, within the
    limits (per account, per phone; the address limit counts every request)."""
    reset_id = uuid.uuid4().hex
    email = email.strip().lower() if email else None
    asked_by = email or iin
    by_address = (
        limits.email_from_address(deps, client) if email else limits.sms_from_address(deps, client)
    )
    limits.take(deps, "password_reset", by_address)
    account = None
    if email or (iin and is_valid_iin(iin)):
        account = deps.db[store.ACCOUNTS].find_one({"email": email} if email else {"iin": iin})
    account_key = f"reset:{account['_id']}" if account else None
    rule = throttle.CODE_PER_TARGET
    if account is not None and not guard.decision(deps, account_key, rule).allowed:
        limits.reached("password_reset", "account")
        account = None  # silently send nothing more; the answer stays the same
    # By e-mail when asked by e-mail; by SMS when asked by IIN and a phone is known.
    by_sms = account is not None and not email and account.get("phone")
    channel, to = (
        ("sms", account.get("phone")) if by_sms else ("email", (account or {}).get("email"))
    )
    if by_sms and not limits.take(
        deps,
        "password_reset",
        limits.sms_to_phone(deps, to),
        limits.sms_for_account(deps, account["_id"]),
        silent=True,
    ):
        account = None
    guess_key = target_key_for(asked_by)
    if account is None or not to:
        decoy = open_decoy_challenge(deps, kind="reset", guess_key=guess_key, challenge_id=reset_id)
        return {"id": reset_id, "expires_at": decoy["expires_at"]}
    challenge = open_code_challenge(
        deps,
        kind="reset",
        purpose="password_reset",
        account=account,
        channel=channel,
        to=to,
        challenge_id=reset_id,
        guess_key=guess_key,
    )
    guard.failed(deps, account_key, throttle.CODE_PER_TARGET)
    return {"id": reset_id, "expires_at": challenge["expires_at"]}


def complete_reset(
    deps: Deps, reset_id: str, code: str, new: str, confirmation: str, client: str | None = None
) -> dict:
    challenge = consume_code(deps, "reset", reset_id, code, client)
    account = find_account(deps, challenge["account_id"]) if challenge["account_id"] else None
    if account is None:
        raise Problem(404, "challenge_not_found", field="id")
    ended = _store_new_password(deps, account, new, confirmation, "reset", keep_session=None)
    return {"changed": True, "sessions_ended": ended}
