"""A parent's paid SMS subscriptions to a student's grades and homework (seed 004).

A parent (a citizen account) subscribes a phone to ``homework`` and/or ``grades_weekly`` for a
student by IIN. The phone is the account's own, or one the parent confirmed with a code. Only
an account the population registry lists among the student's parents may subscribe, and only
a verified one (a cabinet registered with data by hand waits for an operator). What the
subscribed phones then get: ``homework`` (at once) and ``grades`` (the weekly digest), both sent
and paid through ``send_paid`` here. ("Subscription" is always this product: the broker's are
bindings.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable, Iterator

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from edu_common import accounts, mongo, paging
from edu_common.kz.iin import mask_iin
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain import budgets as budget_rules
from sms_notify.usecases import balance, outgoing, teaching

log = logging.getLogger(__name__)


def check_destination(deps: Deps, phone: str, field: str = "phone") -> None:
    """A phone a person gives must be one SMS may go to (``SMS_ALLOWED_COUNTRIES``)."""
    if not budget_rules.destination_allowed(phone, deps.budgets.countries):
        raise Problem(
            422,
            "phone_country_not_allowed",
            "SMS are sent only to phones of " + ", ".join(deps.budgets.countries) + ".",
            field=field,
        )


def create(deps: Deps, account_id: str, student_iin: str, phone: str, kinds: list[str]) -> dict:
    check_destination(deps, phone)
    account = accounts.require(deps.db, account_id)
    teaching.check_verified(account)
    student = teaching.child_of(deps, account, student_iin)
    if phone != account.get("phone") and not deps.db[store.CONFIRMED_PHONES].find_one(
        {"_id": f"{account_id}|{phone}"}
    ):
        raise Problem(
            403,
            "phone_not_confirmed",
            "This phone is not your account's: confirm it first with "
            "POST /subscriptions/phone-confirmations.",
            field="phone",
        )
    now = deps.now()
    doc = {
        "_id": store.sortable_id(now),
        "account_id": account_id,
        "student_iin": student_iin,
        "student_name": student.name,
        "phone": phone,
        "kinds": sorted(set(kinds)),
        "created_at": now,
    }
    try:
        deps.db[store.SUBSCRIPTIONS].insert_one(doc)
    except DuplicateKeyError:
        raise Problem(
            409,
            "subscription_exists",
            "This phone is subscribed to this student already: delete it to change the kinds.",
        ) from None
    log.info(
        "subscribed",
        extra={"subscription_id": doc["_id"], "student": mask_iin(student_iin), "kinds": kinds},
    )
    return doc


def mine(deps: Deps, account_id: str, *, limit: int, cursor: str | None) -> dict:
    """My subscriptions, newest first (ids sort by creation)."""
    accounts.require(deps.db, account_id)
    return paging.keyset_page(
        deps.db[store.SUBSCRIPTIONS],
        {"account_id": account_id},
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


def delete(deps: Deps, account_id: str, subscription_id: str) -> None:
    result = deps.db[store.SUBSCRIPTIONS].delete_one(
        {"_id": subscription_id, "account_id": account_id}
    )
    if result.deleted_count == 0:
        raise Problem(404, "not_found", "No such subscription of yours.")


# --- confirming a phone ---------------------------------------------------------------------
def _code_hash(deps: Deps, confirmation_id: str, code: str) -> str:
    message = f"{confirmation_id}|{code}".encode()
    return hmac.new(deps.settings.phone_code_pepper, message, hashlib.sha256).hexdigest()


def start_confirmation(deps: Deps, account_id: str, phone: str) -> dict:
    check_destination(deps, phone)
    account = accounts.require(deps.db, account_id)
    now = deps.now()
    ttl = deps.settings.phone_code_ttl
    recent = deps.db[store.PHONE_CONFIRMATIONS].count_documents(
        {"account_id": account_id, "created_at": {"$gt": now - ttl}}
    )
    if recent >= deps.settings.phone_codes_per_window:
        raise Problem(
            429,
            "too_many_requests",
            "Too many codes asked for; wait a few minutes.",
            headers={"Retry-After": str(int(ttl.total_seconds()))},
        )
    code = f"{secrets.randbelow(10**6):06d}"
    conf_id = store.sortable_id(now)
    doc = {
        "_id": conf_id,
        "account_id": account_id,
        "phone": phone,
        "code_hash": _code_hash(deps, conf_id, code),
        "attempts": 0,
        "created_at": now,
        "expires_at": now + ttl,
        "confirmed_at": None,
        "purge_at": now + ttl + dt.timedelta(days=1),
    }

    def work(session: ClientSession):
        deps.db[store.PHONE_CONFIRMATIONS].insert_one(doc, session=session)
        return outgoing.enqueue(
            deps,
            session,
            event_id=f"phone-confirmation:{conf_id}",
            kind="code",
            to=phone,
            channel="sms",
            language=account.get("language") or "ru",
            template="subscription_phone_confirmation",
            params={"code": store.CODE_MASK, "minutes": int(ttl.total_seconds() // 60)},
            account_id=account_id,
            urgent=True,
            budgeted=True,  # our own product's code, not a security message: it is budgeted
            secret={"code": code},
            expires_at=doc["expires_at"],
            now=now,
        )

    sent = mongo.in_transaction(deps.db, work)
    if sent is not None and sent.status == store.REJECTED_LIMIT:
        # Kept as a record of the refusal; the parent learns why and when to retry.
        raise Problem(
            429,
            "too_many_codes",
            "Too many codes were sent to this phone; try again in a few minutes.",
            headers={"Retry-After": "600"},
        )
    if sent is not None and sent.status == store.OVER_BUDGET:
        raise Problem(
            429,
            "sms_budget_spent",
            "No more SMS can be sent for you today; try again tomorrow.",
            headers={"Retry-After": "3600"},
        )
    return confirmation_view(deps, doc)


def confirmation_view(deps: Deps, doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "phone": doc["phone"],
        "expires_at": doc["expires_at"],
        "confirmed": doc.get("confirmed_at") is not None,
        "attempts_left": max(0, deps.settings.phone_code_attempts - doc["attempts"]),
    }


def confirm(deps: Deps, account_id: str, conf_id: str, code: str) -> dict:
    col = deps.db[store.PHONE_CONFIRMATIONS]
    doc = col.find_one({"_id": conf_id, "account_id": account_id})
    if doc is None:
        raise Problem(404, "not_found", "No such phone confirmation of yours.")
    if doc.get("confirmed_at") is not None:
        return confirmation_view(deps, doc)
    now = deps.now()
    if doc["expires_at"] <= now:
        raise Problem(410, "code_expired", "The code has expired; ask for a new one.")
    most = deps.settings.phone_code_attempts
    doc = col.find_one_and_update(
        {"_id": conf_id, "attempts": {"$lt": most}, "confirmed_at": None},
        {"$inc": {"attempts": 1}},
        return_document=True,
    )
    if doc is None:
        again = col.find_one({"_id": conf_id}) or {}
        if again.get("confirmed_at") is not None:
            return confirmation_view(deps, again)
        raise Problem(429, "too_many_attempts", "Too many wrong codes; ask for a new one.")
    if not hmac.compare_digest(doc["code_hash"], _code_hash(deps, conf_id, code)):
        raise Problem(
            422,
            "code_invalid",
            "The code is not right.",
            field="code",
            attempts_left=max(0, most - doc["attempts"]),
        )
    col.update_one({"_id": conf_id}, {"$set": {"confirmed_at": now}})
    deps.db[store.CONFIRMED_PHONES].update_one(
        {"_id": f"{account_id}|{doc['phone']}"},
        {"$set": {"account_id": account_id, "phone": doc["phone"], "confirmed_at": now}},
        upsert=True,
    )
    return confirmation_view(deps, {**doc, "confirmed_at": now})


# --- sending to subscribed phones ----------------------------------------------------------
def first_name(name: str | None) -> str:
    """How a short SMS names the student: the given name (journal: 'Surname Name ...')."""
    parts = (name or "").split()
    return parts[1] if len(parts) > 1 else (parts[0] if parts else "")


def payers(deps: Deps, session, subs: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
    """(subscription, account) per distinct phone: the oldest subscription pays.

    Two parents subscribing one phone to one child get one SMS, charged once.
    """
    seen: set[str] = set()
    for sub in subs:
        if sub["phone"] in seen:
            continue
        account = deps.db[accounts.ACCOUNTS].find_one(
            {"_id": sub["account_id"], "active": {"$ne": False}}, session=session
        )
        if account is None:
            continue  # deactivated: its subscriptions stay silent
        seen.add(sub["phone"])
        yield sub, account


def _already(deps: Deps, session, event_id: str, phone: str) -> bool:
    """A message for (event, phone, sms) exists: checked before charging, so never twice."""
    key = {"event_id": event_id, "to": phone, "channel": "sms"}
    return deps.db[store.MESSAGES].find_one(key, {"_id": 1}, session=session) is not None


def send_paid(
    deps: Deps, session, *, sub: dict, account: dict, event_id: str, kind: str, params: dict
):
    if _already(deps, session, event_id, sub["phone"]):
        return None
    result = outgoing.enqueue(
        deps,
        session,
        event_id=event_id,
        kind=kind,
        to=sub["phone"],
        channel="sms",
        language=account.get("language") or "ru",
        template=kind,
        params=params,
        account_id=account["_id"],
        charge=balance.charger(deps, session, account["_id"]),
        now=deps.now(),
        subscription_id=sub["_id"],
    )
    if result is not None and result.status == store.NO_BALANCE:
        balance.note_run_out(deps, session, account)
    return result
