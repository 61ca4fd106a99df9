"""The prepaid SMS balance: read it, top it up, charge a subscription SMS (the documents of
``balances``, ``balance_ledger`` and ``top_ups`` are described in store.py).

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

from edu_common import accounts, mongo, paging
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.adapters import payments
from sms_notify.deps import Deps
from sms_notify.domain import balance as rules
from sms_notify.usecases import outgoing

log = logging.getLogger(__name__)


def current(db: Database, account_id: str, session: ClientSession | None = None) -> int:
    doc = db[store.BALANCES].find_one({"_id": account_id}, session=session)
    return int(doc["balance"]) if doc else 0


def view(deps: Deps, account_id: str) -> dict:
    accounts.require(deps.db, account_id)
    return {
        "balance": current(deps.db, account_id),
        "currency": deps.settings.currency,
        "price_per_segment": deps.settings.price_per_segment,
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
    doc = db[store.BALANCES].find_one_and_update(
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


def charger(deps: Deps, session: ClientSession | None, account_id: str) -> outgoing.Charge:
    """The ``charge`` callable ``outgoing.enqueue`` wants, for one payer."""
    return lambda message_id, segments: charge(
        deps.db,
        session,
        account_id=account_id,
        message_id=message_id,
        segments=segments,
        price_per_segment=deps.settings.price_per_segment,
        now=deps.now(),
    )


def note_run_out(deps: Deps, session: ClientSession | None, account: dict) -> None:
    """A subscription SMS could not be paid for: tell the parent by e-mail, once per run-out.

    The flag is set in the same transaction as the unpaid message; a top-up clears it.
    """
    db, now = deps.db, deps.now()
    account_id = account["_id"]
    db[store.BALANCES].update_one(
        {"_id": account_id},
        {"$setOnInsert": {"balance": 0, "run_outs": 0, "run_out_notified": False}},
        upsert=True,
        session=session,
    )
    doc = db[store.BALANCES].find_one_and_update(
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
        deps,
        session,
        event_id=f"balance-empty:{account_id}:{doc['run_outs']}",
        kind="balance",
        to=to,
        channel=channel,
        language=account.get("language") or "ru",
        template="balance_empty",
        params={
            "price": deps.settings.price_per_segment,
            "currency": deps.settings.currency,
            "name": account.get("full_name") or "",
        },
        account_id=account_id,
        now=now,
    )


def top_up(deps: Deps, account_id: str, amount: int, key: str | None) -> tuple[dict, bool]:
    """Start paying ``amount`` in; answers (the top-up, whether this call started it).

    Nothing is credited here: the provider makes a payment and gives the page the citizen pays
    on (``redirect_url``); the balance grows only when its signed callback says paid
    (``on_callback``). The same Idempotency-Key gives the same top-up and the same payment:
    our record, keyed by account and key, is written before the provider is asked, and the
    provider gets our top-up id as its own idempotency key.
    """
    if not key:
        raise Problem(
            428,
            "idempotency_key_required",
            "A top-up moves money: send an Idempotency-Key header so a retry cannot pay twice.",
            field="Idempotency-Key",
        )
    account = accounts.require(deps.db, account_id)
    try:
        rules.check_top_up(amount, deps.settings.top_up_min, deps.settings.top_up_max)
    except rules.TopUpRejected as exc:
        raise Problem(422, exc.code, str(exc), field="amount") from None
    top_up_id = hashlib.sha256(f"{account_id}|{key}".encode()).hexdigest()[:32]
    now = deps.now()
    doc = {
        "_id": top_up_id,
        "account_id": account_id,
        "amount": amount,
        "currency": deps.settings.currency,
        "adapter": deps.payments.name,
        "payment_id": None,
        "redirect_url": None,
        "status": rules.NEW,
        "created_at": now,
        "updated_at": now,
    }
    made = True
    try:
        deps.db[store.TOP_UPS].insert_one(doc)
    except DuplicateKeyError:
        made = False
        doc = deps.db[store.TOP_UPS].find_one({"_id": top_up_id}) or doc
        if doc["amount"] != amount:
            raise Problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key paid a different amount.",
                field="Idempotency-Key",
            ) from None
    if doc["status"] == rules.DECLINED:
        raise Problem(402, "payment_declined", doc.get("reason") or "The payment was declined.")
    if doc["status"] == rules.NEW:
        doc = _create_payment(deps, account, doc)
    return _top_up_view(deps, doc), made


def _create_payment(deps: Deps, account: dict, doc: dict) -> dict:
    """Ask the provider for the payment of a new top-up (again, after a failure: the provider
    answers a repeated reference with the same payment)."""
    try:
        created = deps.payments.create(
            reference=doc["_id"],
            amount=doc["amount"],
            currency=doc["currency"],
            description=f"SMS balance top-up, {doc['amount']} {doc['currency']}",
            callback_url=deps.settings.payment_callback_url,
            return_url=deps.settings.payment_return_url,
        )
    except payments.PaymentUnavailable as exc:
        log.warning("payment provider unavailable", extra={"top_up": doc["_id"], "why": str(exc)})
        raise Problem(
            503, "payment_unavailable", "Payments are unavailable.", headers={"Retry-After": "30"}
        ) from None
    except payments.PaymentRefused as exc:
        deps.db[store.TOP_UPS].update_one(
            {"_id": doc["_id"], "status": rules.NEW},
            {"$set": {"status": rules.DECLINED, "reason": str(exc), "updated_at": deps.now()}},
        )
        raise Problem(402, "payment_declined", str(exc)) from None
    # Only a top-up still new takes the payment: a callback may have been faster than us.
    deps.db[store.TOP_UPS].update_one(
        {"_id": doc["_id"], "status": rules.NEW},
        {
            "$set": {
                "status": rules.PENDING,
                "payment_id": created.payment_id,
                "redirect_url": created.redirect_url,
                "updated_at": deps.now(),
            }
        },
    )
    log.info("top-up payment created", extra={"top_up": doc["_id"], "account": account["_id"]})
    return deps.db[store.TOP_UPS].find_one({"_id": doc["_id"]}) or doc


def top_up_of(deps: Deps, account_id: str, top_up_id: str) -> dict:
    """One of my top-ups, as it stands (pending until the provider's callback)."""
    accounts.require(deps.db, account_id)
    doc = deps.db[store.TOP_UPS].find_one({"_id": top_up_id, "account_id": account_id})
    if doc is None:
        raise Problem(404, "not_found", "No such top-up of yours.")
    return _top_up_view(deps, doc)


def check_callback(deps: Deps, raw: bytes, given: str) -> None:
    """The provider's signature over the raw body, before anything in it is read."""
    if not payments.signed_by(deps.settings.payment_secret, raw, given):
        log.warning("payment callback with a wrong signature")
        raise Problem(401, "invalid_signature", "The callback's signature does not match.")


def on_callback(deps: Deps, body: dict) -> dict:
    """The provider's signed word on a payment: ``paid`` credits the top-up once, ``declined``
    closes it, anything else changes nothing. Repeats change nothing either."""
    top_up_id, payment_id, status = body["reference"], body["payment_id"], body["status"]
    doc = deps.db[store.TOP_UPS].find_one({"_id": top_up_id})
    if doc is None or (doc.get("payment_id") not in (None, payment_id)):
        raise Problem(404, "unknown_payment", "No top-up has this reference and payment id.")
    if (body["amount"], body["currency"]) != (doc["amount"], doc["currency"]):
        # Never credit what was not asked for; an operator must look at it.
        log.error("payment callback for another amount", extra={"top_up": top_up_id})
        raise Problem(422, "amount_mismatch", "The amount or currency is not the top-up's.")
    credited = False
    if status == rules.PAID:
        credited = _credit(deps, doc, payment_id)
    elif status == rules.DECLINED:
        deps.db[store.TOP_UPS].update_one(
            {"_id": top_up_id, "status": {"$in": [rules.NEW, rules.PENDING]}},
            {
                "$set": {
                    "status": rules.DECLINED,
                    "payment_id": payment_id,
                    "reason": "declined by the payment provider",
                    "updated_at": deps.now(),
                }
            },
        )
    now_doc = deps.db[store.TOP_UPS].find_one({"_id": top_up_id}) or doc
    if status == rules.PAID and now_doc["status"] != rules.PAID:
        # Paid after we had it as declined: money taken and not credited. An operator decides.
        log.error("payment paid after it was declined", extra={"top_up": top_up_id})
    return {"id": top_up_id, "status": now_doc["status"], "credited": credited}


def _credit(deps: Deps, doc: dict, payment_id: str) -> bool:
    """Mark the top-up paid and credit the balance, in one transaction; False if it was paid
    (or closed) before: a repeated callback credits nothing."""
    account_id, amount = doc["account_id"], doc["amount"]
    _ensure_balance(deps.db, account_id)
    now = deps.now()

    def work(session: ClientSession) -> bool:
        paid = deps.db[store.TOP_UPS].find_one_and_update(
            {"_id": doc["_id"], "status": {"$in": [rules.NEW, rules.PENDING]}},
            {"$set": {"status": rules.PAID, "payment_id": payment_id, "paid_at": now}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if paid is None:
            return False
        after = deps.db[store.BALANCES].find_one_and_update(
            {"_id": account_id},
            {"$inc": {"balance": amount}, "$set": {"run_out_notified": False, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        entry = rules.LedgerEntry(
            account_id, rules.TOP_UP, amount, int(after["balance"]), now, doc["_id"]
        )
        _write_ledger(deps.db, session, entry)
        account = deps.db[accounts.ACCOUNTS].find_one({"_id": account_id}, session=session)
        if account is not None:
            _receipt(deps, session, account, paid, int(after["balance"]))
        return True

    credited = mongo.in_transaction(deps.db, work)
    if credited:
        log.info("top-up credited", extra={"top_up": doc["_id"], "account": account_id})
    return credited


def _ensure_balance(db: Database, account_id: str) -> None:
    """Create the balance document outside any transaction: concurrent first top-ups must
    not race to insert it (a duplicate there would fail a payment already taken)."""
    with contextlib.suppress(DuplicateKeyError):  # the other request created it
        db[store.BALANCES].update_one(
            {"_id": account_id},
            {"$setOnInsert": {"balance": 0, "run_outs": 0, "run_out_notified": False}},
            upsert=True,
        )


def _receipt(deps: Deps, session, account: dict, top: dict, balance_after: int) -> None:
    if not account.get("email"):
        return  # the balance page shows it; a receipt by paid SMS would cost the parent
    outgoing.enqueue(
        deps,
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
        now=deps.now(),
    )


def _top_up_view(deps: Deps, doc: dict) -> dict:
    return {
        "id": doc["_id"],
        "amount": doc["amount"],
        "currency": doc["currency"],
        "status": doc["status"],
        "redirect_url": doc.get("redirect_url") if doc["status"] == rules.PENDING else None,
        "created_at": doc["created_at"],
        "paid_at": doc.get("paid_at"),
        "balance": current(deps.db, doc["account_id"]),
    }


def _write_ledger(db: Database, session, entry: rules.LedgerEntry) -> None:
    db[store.LEDGER].insert_one(
        {
            "_id": store.sortable_id(entry.at),
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


def ledger(deps: Deps, account_id: str, *, limit: int, cursor: str | None) -> dict:
    """Every top-up and charge, newest first (ids sort by time)."""
    accounts.require(deps.db, account_id)
    return paging.keyset_page(
        deps.db[store.LEDGER],
        {"account_id": account_id},
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
