"""Signing in (password, one-time SMS code, digital signature), refresh and sign-out.

A session is a family of refresh tokens: each refresh token is single-use and replaced by a
new one; presenting a used one again means it was stolen, and ends the whole family.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from edu_common import mongo, outbox
from edu_common.kz.iin import IINError, parse_iin
from edu_common.web.problems import Problem
from identity import audit, events, guard, store, tokens
from identity.adapters.eds import EdsError
from identity.deps import Deps
from identity.domain import passwords, throttle
from identity.usecases.common import (
    client_key,
    consume_code,
    find_account_by_iin,
    open_code_challenge,
)
from identity.usecases.registration import normalise_phone

EDS_CHALLENGE_TTL = dt.timedelta(minutes=5)
BAD_CREDENTIALS = "The IIN or the password is not right."


def _bad_credentials() -> Problem:
    return Problem(401, "invalid_credentials", BAD_CREDENTIALS)


def open_session(deps: Deps, account: dict, method: str, client: str | None) -> dict:
    """Start a refresh-token family and answer the first token pair."""
    now = deps.now()
    session_id = uuid.uuid4().hex
    secret = tokens.new_refresh_secret()
    deps.db[store.SESSIONS].insert_one(
        {
            "_id": session_id,
            "account_id": account["_id"],
            "method": method,
            "client": client,
            "created_at": now,
            "last_used_at": now,
            "refresh_hash": tokens.hash_secret(secret),
            "used_hashes": [],
            "ended_at": None,
            "expires_at": now + deps.settings.refresh_token_ttl,
        }
    )
    return _token_pair(deps, account, session_id, secret, now)


def password_change_required(deps: Deps, account: dict, now: dt.datetime) -> bool:
    return passwords.change_required(
        account.get("password_changed_at"), now, must_change=account.get("must_change_password")
    )


def _token_pair(deps: Deps, account: dict, session_id: str, secret: str, now) -> dict:
    must_change = password_change_required(deps, account, now)
    access = tokens.issue_access_token(
        deps.keys,
        account_id=account["_id"],
        roles=account["roles"],
        organization_id=account.get("organization_id"),
        session_id=session_id,
        ttl=deps.settings.access_token_ttl,
        password_change_required=must_change,
        now=now,
    )
    return {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": int(deps.settings.access_token_ttl.total_seconds()),
        "refresh_token": f"{session_id}.{secret}",
        "password_change_required": must_change,
    }


def _lock_event(deps: Deps, account_id: str, reason: str, client: str | None) -> None:
    locked_until = deps.now() + throttle.PASSWORD_PER_ACCOUNT.lock_for

    def work(session):
        outbox.emit(
            deps.db,
            session,
            events.ACCOUNT_LOCKED,
            {"account_id": account_id, "reason": reason, "locked_until": locked_until},
        )
        audit.record(
            deps,
            audit.ACCOUNT_LOCKED,
            account_id=account_id,
            client=client,
            session=session,
            reason=reason,
        )

    mongo.in_transaction(deps.db, work)


def login_with_password(deps: Deps, iin: str, password: str, client: str | None) -> dict:
    account_key = f"pw:acct:{iin}"
    client_key = f"pw:client:{client}"
    guard.check(deps, client_key, throttle.PASSWORD_PER_CLIENT)
    guard.check(deps, account_key, throttle.PASSWORD_PER_ACCOUNT)
    account = find_account_by_iin(deps, iin)
    if account is None:
        deps.hasher.verify_dummy(password)  # same time whether or not the account exists
        ok = False
    else:
        ok = deps.hasher.verify(account["password_hash"], password)
    if not ok:
        guard.failed(deps, client_key, throttle.PASSWORD_PER_CLIENT)
        if account is not None:
            if guard.failed(deps, account_key, throttle.PASSWORD_PER_ACCOUNT):
                _lock_event(deps, account["_id"], "password_attempts", client)
            audit.record(
                deps,
                audit.LOGIN_FAILED,
                account_id=account["_id"],
                client=client,
                method="password",
            )
        raise _bad_credentials()
    guard.succeeded(deps, account_key)
    if deps.hasher.needs_rehash(account["password_hash"]):
        deps.db[store.ACCOUNTS].update_one(
            {"_id": account["_id"]}, {"$set": {"password_hash": deps.hasher.hash(password)}}
        )
    audit.record(
        deps, audit.LOGIN_SUCCEEDED, account_id=account["_id"], client=client, method="password"
    )
    return open_session(deps, account, "password", client)


def request_otp(deps: Deps, iin: str, phone: str, client: str | None) -> dict:
    phone = normalise_phone(phone)
    target_key = f"otp:{iin}"
    guard.check(deps, target_key, throttle.CODE_PER_TARGET)
    guard.check(deps, client_key(client), throttle.CODE_PER_CLIENT)
    if phone not in deps.registry.phones_for(iin):
        raise Problem(
            422,
            "phone_not_linked",
            "This phone is not linked to the IIN in the mobile-citizens database.",
            field="phone",
        )
    account = find_account_by_iin(deps, iin)
    if account is None:
        raise Problem(
            422, "no_account", "There is no cabinet for this IIN. Register first.", field="iin"
        )
    challenge = open_code_challenge(
        deps, kind="otp", purpose="login", account=account, channel="sms", to=phone
    )
    # Every code sent counts: a handful of SMS per IIN an hour, and a bound per client address
    # (SMS pumping).
    guard.failed(deps, target_key, throttle.CODE_PER_TARGET)
    guard.failed(deps, client_key(client), throttle.CODE_PER_CLIENT)
    return challenge


def login_with_otp(deps: Deps, challenge_id: str, code: str, client: str | None) -> dict:
    challenge = consume_code(deps, "otp", challenge_id, code, client)
    account = deps.db[store.ACCOUNTS].find_one({"_id": challenge["account_id"]})
    if account is None:
        raise _bad_credentials()
    audit.record(
        deps, audit.LOGIN_SUCCEEDED, account_id=account["_id"], client=client, method="otp"
    )
    return open_session(deps, account, "otp", client)


def eds_challenge(deps: Deps) -> dict:
    if deps.eds is None:
        raise Problem(503, "eds_unavailable", "Signing in with a digital signature is not set up.")
    now = deps.now()
    challenge_id = uuid.uuid4().hex
    nonce = secrets.token_urlsafe(32)
    expires_at = now + EDS_CHALLENGE_TTL
    deps.db[store.CHALLENGES].insert_one(
        {
            "_id": challenge_id,
            "kind": "eds",
            "nonce": nonce,
            "used_at": None,
            "expires_at": expires_at,
        }
    )
    return {"challenge_id": challenge_id, "nonce": nonce, "expires_at": expires_at}


def login_with_eds(
    deps: Deps, challenge_id: str, certificate: str, signature: str, client: str | None
) -> dict:
    if deps.eds is None:
        raise Problem(503, "eds_unavailable", "Signing in with a digital signature is not set up.")
    now = deps.now()
    # The nonce is used once, whatever the outcome: taken before the signature is checked.
    challenge = deps.db[store.CHALLENGES].find_one_and_update(
        {"_id": challenge_id, "kind": "eds", "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}},
    )
    if challenge is None:
        raise Problem(
            410,
            "challenge_used_or_expired",
            "This challenge was used or has expired. Ask for a new one.",
            field="challenge_id",
        )
    try:
        identity = deps.eds.verify(certificate, signature, challenge["nonce"], now=now)
    except EdsError as exc:
        field = "signature" if exc.code == "eds_bad_signature" else "certificate"
        audit.record(
            deps, audit.LOGIN_FAILED, account_id=None, client=client, method="eds", reason=exc.code
        )
        raise Problem(401, exc.code, str(exc), field=field) from exc
    try:
        parse_iin(identity.iin)
    except IINError as exc:
        raise Problem(
            401, "eds_no_iin", "The certificate carries no valid IIN.", field="certificate"
        ) from exc
    account = find_account_by_iin(deps, identity.iin)
    if account is None:
        raise Problem(
            401, "no_account", "There is no cabinet for this certificate's IIN. Register first."
        )
    audit.record(
        deps, audit.LOGIN_SUCCEEDED, account_id=account["_id"], client=client, method="eds"
    )
    return open_session(deps, account, "eds", client)


def refresh(deps: Deps, refresh_token: str, client: str | None) -> dict:
    parts = tokens.split_refresh_token(refresh_token)
    invalid = Problem(401, "invalid_refresh_token", "Sign in again.", field="refresh_token")
    if parts is None:
        raise invalid
    session_id, secret = parts
    now = deps.now()
    digest = tokens.hash_secret(secret)
    new_secret = tokens.new_refresh_secret()
    # Single use: only the current hash rotates, atomically.
    rotated = deps.db[store.SESSIONS].find_one_and_update(
        {"_id": session_id, "refresh_hash": digest, "ended_at": None, "expires_at": {"$gt": now}},
        {
            "$set": {"refresh_hash": tokens.hash_secret(new_secret), "last_used_at": now},
            "$push": {"used_hashes": {"$each": [digest], "$slice": -50}},
        },
    )
    if rotated is None:
        reused = deps.db[store.SESSIONS].find_one({"_id": session_id, "used_hashes": digest})
        if reused is not None and reused.get("ended_at") is None:
            end_sessions(
                deps, reused["account_id"], reason="refresh_reuse", only_session=session_id
            )
            audit.record(
                deps, audit.SESSION_REUSE_DETECTED, account_id=reused["account_id"], client=client
            )
        raise invalid
    account = deps.db[store.ACCOUNTS].find_one({"_id": rotated["account_id"]})
    if account is None:
        raise invalid
    return _token_pair(deps, account, session_id, new_secret, now)


def end_sessions(
    deps: Deps,
    account_id: str,
    *,
    reason: str,
    only_session: str | None = None,
    keep_session: str | None = None,
    session=None,
) -> int:
    query: dict = {"account_id": account_id, "ended_at": None}
    if only_session:
        query["_id"] = only_session
    elif keep_session:
        query["_id"] = {"$ne": keep_session}
    result = deps.db[store.SESSIONS].update_many(
        query, {"$set": {"ended_at": deps.now(), "ended_reason": reason}}, session=session
    )
    return result.modified_count


def session_active(deps: Deps, session_id: str | None) -> bool:
    if not session_id:
        return False
    doc = deps.db[store.SESSIONS].find_one({"_id": session_id}, {"ended_at": 1})
    return doc is not None and doc.get("ended_at") is None
