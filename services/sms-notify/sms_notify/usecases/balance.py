"""Use cases of the prepaid SMS balance: read it, top it up, charge a subscription SMS.

Documents::

    balances        {_id: account_id, balance (KZT), run_out_notified, run_outs, updated_at}
    balance_ledger  {_id: sortable id, account_id, kind top_up|charge, amount, balance_after,
                     at, ref (top-up id or message id), segments}
    top_ups         {_id: hash(account, Idempotency-Key), account_id, amount, currency,
                     payment_id, adapter, status, created_at}

A charge is one conditional update (``balance >= cost``, then ``$inc: -cost``) in the same
transaction as the message it pays for and its ledger row: two sends racing for the last
tenge cannot both pass, and the balance never goes below zero.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from edu_common import mongo
from edu_common.web.problems import Problem
from sms_notify import school_common
from sms_notify.adapters import payments
from sms_notify.domain import balance as rules
from sms_notify.settings_school import SchoolDeps
from sms_notify.usecases import outgoing

log = logging.getLogger(__name__)

BALANCES = "balances"
LEDGER = "balance_ledger"
TOP_UPS = "top_ups"

INDEXES = [
    mongo.Index(LEDGER, [("account_id", 1), ("_id", -1)], name="ledger_by_account"),
    mongo.Index(TOP_UPS, [("account_id", 1), ("created_at", -1)], name="top_ups_by_account"),
]


def current(db: Database, account_id: str, session: ClientSession | None = None) -> int:
    doc = db[BALANCES].find_one({"_id": account_id}, session=session)
    return int(doc["balance"]) if doc else 0


def view(school: SchoolDeps, account_id: str) -> dict:
    school_common.account_of(school.db, account_id)
    return {
        "balance": current(school.db, account_id),
        "currency": school.settings.currency,
        "price_per_segment": school.settings.price_per_segment,
    }


def charge(
    db: Database,
    session: ClientSession | None,
    *,
    account_id: str,
    message_id: str,
    segments: int,
    price_per_segment: int,
    now: dt.datetime,
) -> bool:
    """Take the price of a message from the balance; False (nothing taken) when it cannot pay."""
    amount = rules.cost(segments, price_per_segment)
    if amount == 0:
        return True
    doc = db[BALANCES].find_one_and_update(
        {"_id": account_id, "balance": {"$gte": amount}},
        {"$inc": {"balance": -amount}, "$set": {"updated_at": now}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if doc is None:
        return False
    entry = rules.LedgerEntry(
        account_id, rules.CHARGE, -amount, int(doc["balance"]), now, message_id, segments
    )
    _write_ledger(db, session, entry)
    return True


def charger(school: SchoolDeps, session: ClientSession | None, account_id: str) -> outgoing.Charge:
    """The ``charge`` callable ``outgoing.enqueue`` wants, for one payer."""
    return lambda message_id, segments: charge(
        school.db,
        session,
        account_id=account_id,
        message_id=message_id,
        segments=segments,
        price_per_segment=school.settings.price_per_segment,
        now=school.now(),
    )


def note_run_out(school: SchoolDeps, session: ClientSession | None, account: dict) -> None:
    """A subscription SMS could not be paid for: tell the parent by e-mail, once per run-out.

    The flag is set in the same transaction as the unpaid message; a top-up clears it.
    """
    db, now = school.db, school.now()
    account_id = account["_id"]
    db[BALANCES].update_one(
        {"_id": account_id},
        {"$setOnInsert": {"balance": 0, "run_outs": 0, "run_out_notified": False}},
        upsert=True,
        session=session,
    )
    doc = db[BALANCES].find_one_and_update(
        {"_id": account_id, "run_out_notified": {"$ne": True}},
        {"$set": {"run_out_notified": True, "updated_at": now}, "$inc": {"run_outs": 1}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if doc is None:
        return  # told already since the last top-up
    channel, to = ("email", account.get("email")) if account.get("email") else ("sms", None)
    if channel == "sms":
        to = account.get("phone")
    if not to:
        log.warning("balance ran out; the account has no address", extra={"account": account_id})
        return
    outgoing.enqueue(
        db,
        session,
        event_id=f"balance-empty:{account_id}:{doc['run_outs']}",
        kind="balance",
        to=to,
        channel=channel,
        language=account.get("language") or "ru",
        template="balance_empty",
        params={
            "price": school.settings.price_per_segment,
            "currency": school.settings.currency,
            "name": account.get("full_name") or "",
        },
        account_id=account_id,
        now=now,
    )


def top_up(school: SchoolDeps, account_id: str, amount: int, key: str | None) -> tuple[dict, bool]:
    """Pay ``amount`` in; answers (the top-up, whether this call made it)."""
    if not key:
        raise Problem(
            428,
            "idempotency_key_required",
            "A top-up moves money: send an Idempotency-Key header so a retry cannot pay twice.",
            field="Idempotency-Key",
        )
    account = school_common.account_of(school.db, account_id)
    try:
        rules.check_top_up(amount, school.settings.top_up_min, school.settings.top_up_max)
    except rules.TopUpRejected as exc:
        raise Problem(422, exc.code, str(exc), field="amount") from None
    top_up_id = hashlib.sha256(f"{account_id}|{key}".encode()).hexdigest()[:32]
    done = school.db[TOP_UPS].find_one({"_id": top_up_id})
    if done is not None:
        if done["amount"] != amount:
            raise Problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key paid a different amount.",
                field="Idempotency-Key",
            )
        return _top_up_view(school, done), False
    try:
        paid = school.payments.pay(
            account_id=account_id, amount=amount, currency=school.settings.currency, key=top_up_id
        )
    except payments.PaymentUnavailable:
        raise Problem(
            503, "payment_unavailable", "Payments are unavailable.", headers={"Retry-After": "30"}
        ) from None
    if paid.status != payments.APPROVED:
        raise Problem(402, "payment_declined", paid.reason or "The payment was declined.")
    now = school.now()
    doc = {
        "_id": top_up_id,
        "account_id": account_id,
        "amount": amount,
        "currency": school.settings.currency,
        "payment_id": paid.payment_id,
        "adapter": school.payments.name,
        "status": paid.status,
        "created_at": now,
    }

    _ensure_balance(school.db, account_id)

    def work(session: ClientSession) -> bool:
        try:
            school.db[TOP_UPS].insert_one(doc, session=session)
        except DuplicateKeyError:
            return False  # a concurrent retry with the same key stored it first
        after = school.db[BALANCES].find_one_and_update(
            {"_id": account_id},
            {"$inc": {"balance": amount}, "$set": {"run_out_notified": False, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        entry = rules.LedgerEntry(
            account_id, rules.TOP_UP, amount, int(after["balance"]), now, top_up_id
        )
        _write_ledger(school.db, session, entry)
        _receipt(school, session, account, doc, int(after["balance"]))
        return True

    made = mongo.in_transaction(school.db, work)
    stored = school.db[TOP_UPS].find_one({"_id": top_up_id}) or doc
    return _top_up_view(school, stored), made


def _ensure_balance(db: Database, account_id: str) -> None:
    """Create the balance document outside any transaction: concurrent first top-ups must
    not race to insert it (a duplicate there would fail a payment already taken)."""
    with contextlib.suppress(DuplicateKeyError):  # the other request created it
        db[BALANCES].update_one(
            {"_id": account_id},
            {"$setOnInsert": {"balance": 0, "run_outs": 0, "run_out_notified": False}},
            upsert=True,
        )


def _receipt(school: SchoolDeps, session, account: dict, top: dict, balance_after: int) -> None:
    if not account.get("email"):
        return  # the balance page shows it; a receipt by paid SMS would cost the parent
    outgoing.enqueue(
        school.db,
        session,
        event_id=f"top-up:{top['_id']}",
        kind="balance",
        to=account["email"],
        channel="email",
        language=account.get("language") or "ru",
        template="topup",
        params={
            "amount": top["amount"],
            "currency": top["currency"],
            "balance": balance_after,
            "name": account.get("full_name") or "",
        },
        account_id=account["_id"],
        now=school.now(),
    )


def _top_up_view(school: SchoolDeps, doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "amount": doc["amount"],
        "currency": doc["currency"],
        "status": doc["status"],
        "created_at": doc["created_at"],
        "balance": current(school.db, doc["account_id"]),
    }


def _write_ledger(db: Database, session, entry: rules.LedgerEntry) -> None:
    db[LEDGER].insert_one(
        {
            "_id": school_common.sortable_id(entry.at),
            "account_id": entry.account_id,
            "kind": entry.kind,
            "amount": entry.amount,
            "balance_after": entry.balance_after,
            "at": entry.at,
            "ref": entry.ref,
            "segments": entry.segments,
        },
        session=session,
    )


def ledger(school: SchoolDeps, account_id: str, *, limit: int, cursor: str | None):
    school_common.account_of(school.db, account_id)
    return school_common.page(
        school.db[LEDGER], {"account_id": account_id}, limit=limit, cursor=cursor
    )
