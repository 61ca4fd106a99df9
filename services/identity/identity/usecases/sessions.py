"""Signing in (password, one-time SMS code, digital signature), refresh and sign-out.

A session is a family of refresh tokens: each refresh token is single-use and replaced by a
new one; presenting a used one again means it was stolen, and ends the whole family.
"""

from __future__ import annotations

import datetime as dt
import uuid

from edu_common import mongo, outbox
from edu_common.kz.iin import IINError, is_valid_iin, parse_iin
from edu_common.registry import RegistryError
from edu_common.web.problems import Problem
from identity import audit, events, guard, limits, store, tokens
from identity.adapters.eds import EdsError
from identity.deps import Deps
from identity.domain import passwords, throttle
from identity.usecases.common import (
    announce_account,
    check_signature,
    consume_code,
    eds_field,
    find_account_by_iin,
    is_verified,
    new_eds_challenge,
    open_code_challenge,
    open_decoy_challenge,
    take_eds_challenge,
    target_key,
)
from identity.usecases.registration import normalise_phone

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
    per_address = deps.settings.login_failures_per_address
    guard.check(deps, client_key, per_address)
    guard.check(deps, account_key, throttle.PASSWORD_PER_ACCOUNT)
    account = find_account_by_iin(deps, iin)
    if account is None:
        deps.hasher.verify_dummy(password)  # same time whether or not the account exists
        ok = False
    else:
        ok = deps.hasher.verify(account["password_hash"], password)
    if not ok:
        guard.failed(deps, client_key, per_address)
        # Counted whether or not the IIN has an account: the delays and the lock look alike.
        just_locked = guard.failed(deps, account_key, throttle.PASSWORD_PER_ACCOUNT)
        if account is not None:
            if just_locked:
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
    expires = account.get("one_time_password_expires_at")
    if account.get("must_change_password") and expires is not None and deps.now() >= expires:
        audit.record(
            deps,
            audit.LOGIN_FAILED,
            account_id=account["_id"],
            client=client,
            method="password",
            reason="one_time_password_expired",
        )
        raise Problem(
            401,
            "one_time_password_expired",
            "The one-time password has expired. Ask for a new one, or recover access by IIN.",
            recovery="/password-resets",
        )
    if deps.hasher.needs_rehash(account["password_hash"]):
        deps.db[store.ACCOUNTS].update_one(
            {"_id": account["_id"]}, {"$set": {"password_hash": deps.hasher.hash(password)}}
        )
    audit.record(
        deps, audit.LOGIN_SUCCEEDED, account_id=account["_id"], client=client, method="password"
    )
    return open_session(deps, account, "password", client)


def request_otp(deps: Deps, iin: str, phone: str, client: str | None) -> dict:
    """Always 202 with a challenge, whether or not the IIN has a cabinet and the phone is
    linked to it; the code is sent only when both hold (and within the SMS limits). Wrong
    codes against a challenge sent to nobody fail exactly as against a real one."""
    phone = normalise_phone(phone)
    iin_key = f"otp:{iin}"
    guard.check(deps, iin_key, throttle.CODE_PER_TARGET)
    # Counted for every request, sent or not, so the limits say nothing about the IIN.
    limits.take(deps, "login", limits.sms_from_address(deps, client))
    guard.failed(deps, iin_key, throttle.CODE_PER_TARGET)
    account, linked = None, False
    if is_valid_iin(iin):
        account = find_account_by_iin(deps, iin)
        try:  # asked whatever the account, so an outage says nothing about it either
            linked = phone in deps.registry.phones_for(iin)
        except RegistryError as exc:
            raise Problem(
                503, "registry_unavailable", "The mobile-citizens database does not answer."
            ) from exc
    if (
        account is not None
        and linked
        and limits.take(
            deps,
            "login",
            limits.sms_to_phone(deps, phone),
            limits.sms_for_account(deps, account["_id"]),
            silent=True,
        )
    ):
        return open_code_challenge(
            deps, kind="otp", purpose="login", account=account, channel="sms", to=phone
        )
    return open_decoy_challenge(deps, kind="otp", guess_key=target_key(phone))


def proven_by_sign_in(deps: Deps, account: dict, method: str, client: str | None) -> None:
    """A code to a phone the mobile-citizens database links to the IIN, or a signature by a
    certificate carrying it, proves the IIN: an older self-registered cabinet whose data came
    from the registry unproven becomes verified (audited, announced)."""
    if is_verified(account) or (account.get("person") or {}).get("source") != "registry":
        return
    verification = {"method": f"sign_in_{method}", "at": deps.now()}

    def work(session):
        updated = deps.db[store.ACCOUNTS].update_one(
            {"_id": account["_id"], "verified": {"$ne": True}},
            {"$set": {"verified": True, "verification": verification}},
            session=session,
        )
        if updated.modified_count:
            announce_account(deps, session, account["_id"])
            audit.record(
                deps,
                audit.ACCOUNT_VERIFIED,
                account_id=account["_id"],
                client=client,
                session=session,
                method=f"sign_in_{method}",
            )

    mongo.in_transaction(deps.db, work)


def login_with_otp(deps: Deps, challenge_id: str, code: str, client: str | None) -> dict:
    challenge = consume_code(deps, "otp", challenge_id, code, client)
    account = deps.db[store.ACCOUNTS].find_one({"_id": challenge["account_id"]})
    if account is None:
        raise _bad_credentials()
    audit.record(
        deps, audit.LOGIN_SUCCEEDED, account_id=account["_id"], client=client, method="otp"
    )
    proven_by_sign_in(deps, account, "otp", client)
    return open_session(deps, account, "otp", client)


def eds_challenge(deps: Deps) -> dict:
    return new_eds_challenge(deps, "eds")


def login_with_eds(
    deps: Deps,
    challenge_id: str,
    client: str | None,
    *,
    certificate: str | None = None,
    signature: str | None = None,
    cms: str | None = None,
) -> dict:
    """A signature of the nonce: a certificate (PEM) with a raw signature, or the CMS that
    NCALayer makes (signer's certificate embedded, attached or detached)."""
    challenge = take_eds_challenge(deps, challenge_id, "eds")
    try:
        identity = check_signature(
            deps, challenge["nonce"], certificate=certificate, signature=signature, cms=cms
        )
    except EdsError as exc:
        audit.record(
            deps, audit.LOGIN_FAILED, account_id=None, client=client, method="eds", reason=exc.code
        )
        raise Problem(401, exc.code, str(exc), field=eds_field(exc.code, cms)) from exc
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
    proven_by_sign_in(deps, account, "eds", client)
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
