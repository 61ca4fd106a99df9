"""The prepaid SMS balance over HTTP, and charges that never take it below zero."""

from __future__ import annotations

import datetime as dt
import sys
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import (
    STUDENT_IIN,
    add_account,
    envelope,
    handle,
    key,
    messages,
)

from sms_notify import journal, store
from sms_notify.usecases import balance


def test_needs_a_citizen_token(client, db, minter):
    assert client.get("/balance").status_code == 401
    assert client.post("/balance/top-ups", json={"amount": 500}).status_code == 401
    assert client.get("/balance/ledger").status_code == 401
    teacher = add_account(db, roles=("teacher",))
    h = minter.headers(teacher, roles=["teacher"])
    assert client.get("/balance", headers=h).status_code == 403


def test_new_account_has_zero_and_the_price(client, db, minter):
    r = client.get("/balance", headers=minter.headers(add_account(db)))
    assert r.status_code == 200
    assert r.json == {"balance": 0, "currency": "KZT", "price_per_segment": 10}


def test_top_up_requires_an_idempotency_key(client, db, minter):
    h = minter.headers(add_account(db))
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 428
    assert r.json["code"] == "idempotency_key_required"
    assert r.json["invalid_params"][0]["name"] == "Idempotency-Key"
    assert client.get("/balance", headers=h).json["balance"] == 0


def test_top_up_once_per_key_with_a_receipt_and_ledger(client, db, minter):
    account = add_account(db)
    h = {**minter.headers(account), **key()}
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["balance"] == 500 and r.json["status"] == "approved"
    again = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert again.status_code == 201 and again.json["id"] == r.json["id"]
    other = client.post("/balance/top-ups", json={"amount": 700}, headers=h)
    assert other.status_code == 422  # the same key with another amount
    assert client.get("/balance", headers=h).json["balance"] == 500
    # The key outlived the HTTP idempotency record: our own top-up record still refuses it.
    db.idempotency_keys.delete_many({})
    replay = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert replay.status_code == 201 and replay.json["id"] == r.json["id"]
    assert client.get("/balance", headers=h).json["balance"] == 500

    [receipt] = messages(db, kind="balance")
    assert receipt["channel"] == "email" and "500" in receipt["body"]
    ledger = client.get("/balance/ledger", headers=h).json
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger["items"]] == [
        ("top_up", 500, 500)
    ]


def test_bad_amounts_and_declines(client, db, minter):
    h = minter.headers(add_account(db))
    for amount, status in ((50, 422), (60_000, 422), ("100", 422), (None, 422)):
        r = client.post("/balance/top-ups", json={"amount": amount}, headers={**h, **key()})
        assert r.status_code == status, (amount, r.json)
        assert r.json["invalid_params"][0]["name"] == "amount"
    r = client.post("/balance/top-ups", json={"amount": 1013}, headers={**h, **key()})
    assert r.status_code == 402
    assert r.json["code"] == "payment_declined"
    assert client.get("/balance", headers=h).json["balance"] == 0


def test_ledger_is_paginated_and_private(client, db, minter):
    account = add_account(db)
    h = minter.headers(account)
    for amount in (100, 200, 300):
        client.post("/balance/top-ups", json={"amount": amount}, headers={**h, **key()})
    page = client.get("/balance/ledger?limit=2", headers=h).json
    assert [e["amount"] for e in page["items"]] == [300, 200]
    rest = client.get(f"/balance/ledger?limit=2&cursor={page['next_cursor']}", headers=h).json
    assert [e["amount"] for e in rest["items"]] == [100] and rest["next_cursor"] is None
    stranger = minter.headers(add_account(db))
    assert client.get("/balance/ledger", headers=stranger).json["items"] == []
    assert client.get("/balance", headers=h).json["balance"] == 600


def test_concurrent_sends_never_overdraw(deps, db, worker_bindings, client, minter):
    """Twelve homework events at once on a balance that pays for a few: the rest are unpaid."""
    account = add_account(db)
    db[store.SUBSCRIPTIONS].insert_one(
        {
            "_id": "sub-1",
            "account_id": account,
            "student_iin": STUDENT_IIN,
            "student_name": "Дәулет",
            "phone": "+77010000101",
            "kinds": ["homework"],
            "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        }
    )
    top_up = 100
    h = {**minter.headers(account), **key()}
    assert client.post("/balance/top-ups", json={"amount": top_up}, headers=h).status_code == 201
    binding = worker_bindings["journal-homework"]
    errors: list[Exception] = []

    def send(i: int) -> None:
        data = {
            "homework_id": f"hw-{i}",
            "student_iin": STUDENT_IIN,
            "subject": "Математика",
            "text": f"Задание {i}",
            "assigned_at": dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC),
        }
        try:
            handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, data))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    sent = [m for m in messages(db, kind="homework") if m["status"] in (store.QUEUED, store.HELD)]
    unpaid = [m for m in messages(db, kind="homework") if m["status"] == store.NO_BALANCE]
    assert len(sent) + len(unpaid) == 12
    spent = sum(10 * m["charged_segments"] for m in sent)
    left = balance.current(db, account)
    assert left >= 0
    assert spent <= top_up and spent + left == top_up
    assert unpaid, "the balance paid for everything: the test proves nothing"
    charges = list(db[store.LEDGER].find({"account_id": account, "kind": "charge"}))
    assert sorted(c["ref"] for c in charges) == sorted(m["_id"] for m in sent)
    assert len(messages(db, kind="balance", channel="email")) == 2  # receipt + one run-out


def test_a_different_account_is_never_charged(db, worker_bindings):
    payer = add_account(db)
    other = add_account(db)
    for acc, amount in ((payer, 0), (other, 1000)):
        db[store.BALANCES].insert_one({"_id": acc, "balance": amount})
    db[store.SUBSCRIPTIONS].insert_one(
        {
            "_id": uuid.uuid4().hex,
            "account_id": payer,
            "student_iin": STUDENT_IIN,
            "phone": "+77010000101",
            "kinds": ["homework"],
            "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        }
    )
    data = {
        "homework_id": "hw-x",
        "student_iin": STUDENT_IIN,
        "subject": "Физика",
        "text": "§3",
        "assigned_at": dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC),
    }
    handle(db, worker_bindings["journal-homework"], envelope(journal.HOMEWORK_ASSIGNED, data))
    assert balance.current(db, other) == 1000
    assert messages(db, kind="homework")[0]["status"] == store.NO_BALANCE


def test_concurrent_first_top_ups_are_all_credited(client, db, minter):
    account = add_account(db)
    h = minter.headers(account)
    codes: list[int] = []

    def pay(amount: int) -> None:
        with client.application.test_client() as c:
            r = c.post("/balance/top-ups", json={"amount": amount}, headers={**h, **key()})
            codes.append(r.status_code)

    threads = [threading.Thread(target=pay, args=(100 * (i + 1),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [201] * 4
    assert client.get("/balance", headers=h).json["balance"] == 100 + 200 + 300 + 400
    assert db[store.LEDGER].count_documents({"account_id": account}) == 4
