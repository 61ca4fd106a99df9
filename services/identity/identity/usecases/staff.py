"""Accounts made by staff and the bootstrap admin. No shared default password ever: a random
one-time password goes to the person by SMS or e-mail and must be changed at first login."""

from __future__ import annotations

import logging
import secrets
import string
import uuid

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from edu_common import mongo, outbox
from edu_common.kz.iin import IINError, mask_iin, parse_iin
from edu_common.web.problems import Problem
from identity import audit, events, store
from identity.deps import Deps
from identity.domain import roles as role_names
from identity.usecases.common import (
    announce_account,
    is_verified,
    person_from_registry,
    request_code_delivery,
)
from identity.usecases.registration import normalise_phone

log = logging.getLogger(__name__)

_ALPHABET = string.ascii_letters + string.digits
_SPECIALS = "*-#!"


def one_time_password() -> str:
    """Random, and acceptable to the strict policy (upper, lower, digit, special)."""
    body = [secrets.choice(_ALPHABET) for _ in range(10)]
    body += [
        secrets.choice(string.ascii_uppercase),
        secrets.choice(string.ascii_lowercase),
        secrets.choice(string.digits),
        secrets.choice(_SPECIALS),
    ]
    secrets.SystemRandom().shuffle(body)
    return "".join(body)


def _account_doc(
    deps: Deps,
    *,
    iin,
    email,
    phone,
    roles,
    organization_id,
    person,
    origin,
    password_hash,
    must_change,
    language="ru",
    verified: bool = True,
    one_time_password_expires_at=None,
    **extra,
) -> dict:
    now = deps.now()
    return {
        "_id": uuid.uuid4().hex,
        "iin": iin,
        "email": email,
        "email_verified_at": None,
        "phone": phone,
        "person": person,
        "roles": sorted(set(roles)),
        "organization_id": organization_id,
        "language": language,
        "password_hash": password_hash,
        "password_changed_at": now,
        "password_history": [password_hash],
        "must_change_password": must_change,
        "one_time_password_expires_at": one_time_password_expires_at,
        "verified": verified,
        "consents": {},
        "created_at": now,
        "origin": origin,
        **extra,
    }


def _registered_event(account: dict) -> dict:
    person = account.get("person") or {}
    birth = person.get("birth_date")
    return {
        "account_id": account["_id"],
        "origin": account["origin"],
        "roles": account["roles"],
        "organization_id": account.get("organization_id"),
        "iin_masked": mask_iin(account["iin"]) if account.get("iin") else None,
        "citizenship": person.get("citizenship"),
        "birth_year": int(birth[:4]) if birth else None,
        "language": account.get("language", "ru"),
    }


def create_account(deps: Deps, actor_id: str, data: dict, client: str | None) -> dict:
    try:
        iin = parse_iin(data["iin"]).value
    except IINError as exc:
        raise Problem(422, exc.code, str(exc), field="iin") from exc
    _check_roles(data["roles"], data.get("organization_id"))
    email = data.get("email")
    email = email.strip().lower() if email else None
    phone = normalise_phone(data["phone"]) if data.get("phone") else None
    if not email and not phone:
        raise Problem(
            422, "contact_required", "Give a phone or an e-mail for the password.", field="phone"
        )
    person_record = None
    person = deps.registry.find_person(iin)
    if person is not None:
        person_record = person_from_registry(person)
    password = one_time_password()
    expires_at = deps.now() + deps.settings.one_time_password_ttl
    account = _account_doc(
        deps,
        iin=iin,
        email=email,
        phone=phone,
        roles=data["roles"],
        organization_id=data.get("organization_id"),
        person=person_record,
        origin="staff",
        password_hash=deps.hasher.hash(password),
        must_change=True,
        language=data.get("language", "ru"),
        one_time_password_expires_at=expires_at,
        # An admin made it, knowing whom for: staff accounts are verified.
        verification={"method": "staff", "by": actor_id, "at": deps.now()},
    )
    channel, to = ("sms", phone) if phone else ("email", email)

    def work(session):
        deps.db[store.ACCOUNTS].insert_one(store.without_missing_keys(account), session=session)
        request_code_delivery(
            deps,
            session,
            challenge_id=account["_id"],
            purpose="initial_password",
            channel=channel,
            to=to,
            code=password,
            language=account["language"],
            expires_at=expires_at,
            account_id=account["_id"],
        )
        outbox.emit(deps.db, session, events.ACCOUNT_REGISTERED, _registered_event(account))
        announce_account(deps, session, account["_id"])
        audit.record(
            deps,
            audit.ACCOUNT_CREATED,
            account_id=account["_id"],
            actor_id=actor_id,
            client=client,
            session=session,
            origin="staff",
            roles=account["roles"],
        )

    try:
        mongo.in_transaction(deps.db, work)
    except DuplicateKeyError as exc:
        field = "email" if "email" in str(exc) else "iin"
        raise Problem(
            409, f"{field}_taken", "An account with this value exists.", field=field
        ) from exc
    return public_account(account) | {"password_sent_to": channel}


def _check_roles(roles: list[str], organization_id: str | None) -> None:
    unknown = set(roles) - role_names.ALL_ROLES
    if unknown:
        raise Problem(422, "unknown_role", f"Unknown roles: {sorted(unknown)}", field="roles")
    if set(roles) & role_names.STAFF_ROLES - {role_names.ADMIN} and not organization_id:
        raise Problem(
            422,
            "organization_required",
            "Staff belong to an organisation.",
            field="organization_id",
        )


def change_roles(
    deps: Deps, actor_id: str, account_id: str, data: dict, client: str | None
) -> dict:
    """An admin sets an account's roles and organisation; services learn it from
    identity.account.changed.v1 and the account's next access token carries it."""
    roles, organization_id = sorted(set(data["roles"])), data.get("organization_id")
    _check_roles(roles, organization_id)
    if account_id == actor_id and role_names.ADMIN not in roles:
        raise Problem(
            422, "cannot_demote_self", "An admin cannot take away their own admin role.",
            field="roles",
        )  # fmt: skip

    def work(session):
        found = deps.db[store.ACCOUNTS].find_one_and_update(
            {"_id": account_id},
            {"$set": {"roles": roles, "organization_id": organization_id}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if found is None:
            raise Problem(404, "account_not_found")
        announce_account(deps, session, account_id)
        audit.record(
            deps,
            audit.ROLES_CHANGED,
            account_id=account_id,
            actor_id=actor_id,
            client=client,
            session=session,
            roles=roles,
            organization_id=organization_id,
        )
        return found

    return public_account(mongo.in_transaction(deps.db, work))


def ensure_bootstrap_admin(deps: Deps) -> None:
    """Create the first admin from BOOTSTRAP_ADMIN_* once; later starts leave it alone."""
    s = deps.settings
    if not s.bootstrap_admin_iin or not s.bootstrap_admin_password:
        return
    if deps.db[store.ACCOUNTS].find_one({"iin": s.bootstrap_admin_iin}, {"_id": 1}):
        return
    account = _account_doc(
        deps,
        iin=s.bootstrap_admin_iin,
        email=s.bootstrap_admin_email,
        phone=s.bootstrap_admin_phone,
        roles=[role_names.ADMIN],
        organization_id=None,
        person=None,
        origin="bootstrap",
        password_hash=deps.hasher.hash(s.bootstrap_admin_password),
        # The password sits in the deployment's environment: it is changed at first sign-in
        # (the token allows nothing else until then). It does not expire like a staff one.
        must_change=True,
    )

    def work(session):
        deps.db[store.ACCOUNTS].insert_one(store.without_missing_keys(account), session=session)
        outbox.emit(deps.db, session, events.ACCOUNT_REGISTERED, _registered_event(account))
        announce_account(deps, session, account["_id"])
        audit.record(
            deps,
            audit.ACCOUNT_CREATED,
            account_id=account["_id"],
            session=session,
            origin="bootstrap",
        )

    try:
        mongo.in_transaction(deps.db, work)
        log.info("bootstrap admin created")
    except DuplicateKeyError:
        pass  # another process won the race


def public_account(account: dict) -> dict:
    return {
        "id": account["_id"],
        "iin": account.get("iin"),
        "email": account.get("email"),
        "phone": account.get("phone"),
        "roles": account["roles"],
        "organization_id": account.get("organization_id"),
        "person": account.get("person"),
        "language": account.get("language"),
        "created_at": account["created_at"],
        "password_changed_at": account.get("password_changed_at"),
        "must_change_password": account.get("must_change_password", False),
        "verified": is_verified(account),
        "consents": account.get("consents", {}),
    }


def verify_account(
    deps: Deps, actor_id: str, account_id: str, data: dict, client: str | None
) -> dict:
    """An operator has seen the identity document of a person who registered with data by hand
    and vouches for the data: the account becomes verified, audited and announced."""
    if data.get("document_checked") is not True:
        raise Problem(
            422,
            "document_not_checked",
            "Verify only after checking the identity document.",
            field="document_checked",
        )
    now = deps.now()
    note = (data.get("note") or "").strip() or None

    def work(session):
        account = deps.db[store.ACCOUNTS].find_one({"_id": account_id}, session=session)
        if account is None:
            raise Problem(404, "account_not_found")
        if is_verified(account):
            return account
        verification = {
            "method": "document",
            "by": actor_id,
            "at": now,
            "note": note,
            "document": (account.get("person") or {}).get("document"),
        }
        deps.db[store.ACCOUNTS].update_one(
            {"_id": account_id},
            {"$set": {"verified": True, "verification": verification}},
            session=session,
        )
        announce_account(deps, session, account_id)
        audit.record(
            deps,
            audit.ACCOUNT_VERIFIED,
            account_id=account_id,
            actor_id=actor_id,
            client=client,
            session=session,
            method="document",
            note=note,
        )
        return {**account, "verified": True, "verification": verification}

    return public_account(mongo.in_transaction(deps.db, work))
