"""Who is who, as every service needs to know it: a local copy of identity's accounts.

identity publishes ``identity.account.changed.v1`` on its internal exchange with an account's
whole current state (event-carried state transfer): when it is created and whenever its roles,
organisation, contacts or language change. Each service keeps its own copy in its own database
(collection ``accounts``, keyed by account id) and reads it locally: a parent's IIN behind a
token, a kindergarten's staff, a teacher's phone. Events may arrive out of order or twice; the
``revision`` counter keeps the newest.
"""

from __future__ import annotations

from pymongo.database import Database

from edu_common.consumer import Binding, HandlerContext
from edu_common.contracts.identity import ACCOUNT_CHANGED, AccountChanged
from edu_common.envelope import Envelope
from edu_common.mongo import Index
from edu_common.web.problems import Problem

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


def require(db: Database, account_id: str) -> dict:
    """The asking account from the local copy; 409 while identity's event is on its way."""
    account = get(db, account_id)
    if account is None:
        raise Problem(
            409,
            "account_not_synced",
            "Your account is not known here yet; try again in a few seconds.",
            headers={"Retry-After": "2"},
        )
    return account


def with_iin(db: Database, iin: str) -> list[dict]:
    return list(db[ACCOUNTS].find({"iin": iin, "active": {"$ne": False}}))
