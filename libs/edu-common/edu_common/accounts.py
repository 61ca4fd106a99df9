"""Who is who, as every service needs to know it: a local copy of identity's accounts.

identity publishes ``identity.account.changed.v1`` on its internal exchange with an account's
whole current state (event-carried state transfer): when it is created and whenever its roles,
organisation, contacts or language change. Each service keeps its own copy in its own database
(collection ``accounts``, keyed by account id) and reads it locally: a parent's IIN behind a
token, a kindergarten's staff, a teacher's phone. Events may arrive out of order or twice; the
``revision`` counter keeps the newest.

The copy may lag behind a sign-in by a moment (the event is on its way). ``require`` then fills
it from identity itself, over identity's internal API with the asking person's own access token
(docs/decisions/0016-account-copy-on-miss.md), so an honest user is never told to wait. It needs
nothing from the service beyond what every service has: its Deps in ``app.extensions[<service
name>]`` with the shared settings (``IDENTITY_URL``, ``IDENTITY_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import logging

from flask import current_app, g, has_request_context
from marshmallow import ValidationError
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from edu_common import identity_api
from edu_common.consumer import Binding, HandlerContext
from edu_common.contracts.identity import ACCOUNT_CHANGED, AccountChanged
from edu_common.envelope import Envelope
from edu_common.mongo import Index
from edu_common.web import auth
from edu_common.web.problems import Problem

log = logging.getLogger(__name__)

ACCOUNTS = "accounts"
INDEXES = [
    Index(ACCOUNTS, [("iin", 1)], name="accounts_by_iin"),
    Index(ACCOUNTS, [("roles", 1), ("organization_id", 1)], name="accounts_by_role"),
]


def apply(envelope: Envelope, ctx: HandlerContext) -> None:
    """Keep the newest state of the account; an older or repeated revision changes nothing."""
    data = AccountChanged().load(envelope.data)
    account_id = data.pop("account_id")
    current = ctx.db[ACCOUNTS].find_one({"_id": account_id}, {"revision": 1}, session=ctx.session)
    if current is not None and current.get("revision", 0) >= data["revision"]:
        return
    ctx.db[ACCOUNTS].replace_one({"_id": account_id}, data, upsert=True, session=ctx.session)


def binding(**kw) -> Binding:
    """The worker's binding that keeps the local copy (queue ``<service>.accounts``)."""
    return Binding.on("accounts", [ACCOUNT_CHANGED], apply, **kw)


def get(db: Database, account_id: str) -> dict | None:
    return db[ACCOUNTS].find_one({"_id": account_id, "active": {"$ne": False}})


def keep(db: Database, state: dict) -> bool:
    """Store an account state outside an event (identity's answer on a miss): newest revision
    wins here too, atomically against an event being applied at the same moment."""
    data = AccountChanged().load(state)
    account_id = data.pop("account_id")
    try:
        db[ACCOUNTS].replace_one(
            {"_id": account_id, "revision": {"$lt": data["revision"]}}, data, upsert=True
        )
    except DuplicateKeyError:
        return False  # the copy has this revision or a newer one already
    return True


def _service_settings():
    """The shared settings of the service serving this request (its Deps' ``settings``)."""
    deps = current_app.extensions.get(current_app.name)
    return getattr(deps, "settings", None)


def fill_on_miss(db: Database, account_id: str) -> dict | None:
    """The asking person's account from identity, kept in the copy; None when this request
    cannot ask for it (not the caller's own account, no token, identity not configured or not
    answering). Only the token's own subject is asked for: identity answers for nobody else."""
    if not has_request_context():
        return None
    principal = g.get("principal")
    token = auth.bearer_token()
    if principal is None or principal.account_id != account_id or token is None:
        return None
    settings = _service_settings()
    base_url = getattr(settings, "identity_url", None)
    if not base_url:
        return None
    try:
        state = identity_api.account(base_url, account_id, token, timeout=settings.identity_timeout)
    except identity_api.IdentityUnavailable as exc:
        log.warning("identity did not answer for a missing account copy: %s", exc)
        return None
    if state is None or state.get("account_id") != account_id:
        return None
    try:
        keep(db, state)
    except (ValidationError, PyMongoError) as exc:
        log.warning("identity's account state could not be kept: %s", type(exc).__name__)
        return None
    return get(db, account_id)


def require(db: Database, account_id: str) -> dict:
    """The asking account from the local copy, filled from identity on a miss; 409 only while
    neither has it (identity not answering)."""
    account = get(db, account_id) or fill_on_miss(db, account_id)
    if account is None:
        raise Problem(
            409,
            "account_not_synced",
            "Your account is not known here yet; try again in a few seconds.",
            headers={"Retry-After": "2"},
        )
    return account


# An account whose holder has not proved the IIN is theirs (identity's ``verified: false``, a
# cabinet registered with data entered by hand): it may look, but not act on a child's or its
# own behalf where a service says so. Copies made before identity sent the field have none:
# they are verified (the accounts of then were all proven).
ACCOUNT_NOT_VERIFIED = "account_not_verified"
NOT_VERIFIED_DETAIL = "Prove in your personal cabinet that this IIN is yours first."


def is_verified(account: dict) -> bool:
    return account.get("verified", True) is not False


def not_verified(detail: str = NOT_VERIFIED_DETAIL) -> Problem:
    return Problem(403, ACCOUNT_NOT_VERIFIED, detail)


def require_verified(account: dict, detail: str = NOT_VERIFIED_DETAIL) -> dict:
    """The account, or 403 ``account_not_verified`` where its holder is not proven."""
    if not is_verified(account):
        raise not_verified(detail)
    return account


def with_iin(db: Database, iin: str) -> list[dict]:
    return list(db[ACCOUNTS].find({"iin": iin, "active": {"$ne": False}}))
