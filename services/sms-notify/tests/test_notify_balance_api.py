"""The prepaid SMS balance over HTTP: top-ups credited only by the payment provider's signed
callback, and charges that never take the balance below zero."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import (
    STUDENT_IIN,
    add_account,
    callback_body,
    credit,
    envelope,
    handle,
    key,
    messages,
    pay,
    post_callback,
)

from sms_notify import journal, store
from sms_notify.adapters import payments
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


def test_a_top_up_is_pending_until_the_providers_signed_callback_says_paid(
    client, db, minter, deps, provider
):
    account = add_account(db)
    h = {**minter.headers(account), **key()}
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 202, r.json
    started = r.json
    assert started["status"] == "pending" and started["balance"] == 0
    assert started["redirect_url"] == "https://pay.example.kz/checkout/1"
    [asked] = provider.calls
    assert asked["reference"] == started["id"] and asked["amount"] == 500
    assert asked["callback_url"] == deps.settings.payment_callback_url
    # Nothing credited, nothing in the ledger, no receipt yet.
    assert client.get("/balance", headers=h).json["balance"] == 0
    assert client.get("/balance/ledger", headers=h).json["items"] == []
    assert messages(db, kind="balance") == []

    paid = pay(client, deps, started)
    assert paid.status_code == 200, paid.json
    assert paid.json == {"id": started["id"], "status": "paid", "credited": True}
    assert client.get("/balance", headers=h).json["balance"] == 500
    now = client.get(f"/balance/top-ups/{started['id']}", headers=h).json
    assert now["status"] == "paid" and now["redirect_url"] is None and now["paid_at"]

    [receipt] = messages(db, kind="balance")
    assert receipt["channel"] == "email" and "500" in receipt["body"]
    ledger = client.get("/balance/ledger", headers=h).json
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger["items"]] == [
        ("top_up", 500, 500)
    ]


def test_a_repeated_callback_credits_once(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    started = credit(client, deps, h, 700)
    again = pay(client, deps, started)
    assert again.status_code == 200
    assert again.json == {"id": started["id"], "status": "paid", "credited": False}
    # Many at once, as a provider retrying a slow answer does.
    answers: list[dict] = []

    def repeat():
        with client.application.test_client() as c:
            answers.append(pay(c, deps, started).json)

    threads = [threading.Thread(target=repeat) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [a["credited"] for a in answers] == [False] * 4
    assert client.get("/balance", headers=h).json["balance"] == 700
    assert db[store.LEDGER].count_documents({"account_id": account}) == 1
    assert len(messages(db, kind="balance")) == 1  # one receipt


def test_concurrent_first_callbacks_credit_once(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    started = client.post("/balance/top-ups", json={"amount": 300}, headers={**h, **key()}).json
    answers: list[dict] = []

    def callback():
        with client.application.test_client() as c:
            answers.append(pay(c, deps, started).json)

    threads = [threading.Thread(target=callback) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(a["credited"] for a in answers) == [False] * 4 + [True]
    assert client.get("/balance", headers=h).json["balance"] == 300


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=" + "0" * 64, "sha256=wrong", "md5=abc"],
)
def test_a_callback_without_the_right_signature_is_401_and_credits_nothing(
    client, db, minter, deps, signature
):
    account = add_account(db)
    h = minter.headers(account)
    started = client.post("/balance/top-ups", json={"amount": 500}, headers={**h, **key()}).json
    raw = callback_body(started)
    r = post_callback(client, raw, signature=signature)
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.json["code"] == "invalid_signature"
    # Signed with another secret, or a body changed after signing: refused too.
    assert post_callback(client, raw, secret="not-the-secret").status_code == 401
    signed = payments.signature(deps.settings.payment_secret, raw)
    forged = callback_body(started, amount=50_000)
    assert post_callback(client, forged, signature=signed).status_code == 401
    assert client.get("/balance", headers=h).json["balance"] == 0
    assert client.get(f"/balance/top-ups/{started['id']}", headers=h).json["status"] == "pending"


def test_callbacks_for_another_payment_or_amount_credit_nothing(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    started = client.post("/balance/top-ups", json={"amount": 500}, headers={**h, **key()}).json
    secret = deps.settings.payment_secret
    r = post_callback(client, callback_body(started, reference="nope"), secret)
    assert r.status_code == 404 and r.json["code"] == "unknown_payment"
    r = post_callback(client, callback_body(started, payment_id="pay-999"), secret)
    assert r.status_code == 404 and r.json["code"] == "unknown_payment"
    r = post_callback(client, callback_body(started, amount=5000), secret)
    assert r.status_code == 422 and r.json["code"] == "amount_mismatch"
    r = post_callback(client, callback_body(started, currency="USD"), secret)
    assert r.status_code == 422 and r.json["code"] == "amount_mismatch"
    r = post_callback(client, b"{not json", secret)
    assert r.status_code == 400 and r.json["code"] == "malformed_json"
    r = post_callback(client, json.dumps({"reference": started["id"]}).encode(), secret)
    assert r.status_code == 422
    assert {p["name"] for p in r.json["invalid_params"]} >= {"payment_id", "status", "amount"}
    r = post_callback(client, callback_body(started, status="pending"), secret)
    assert r.status_code == 200 and r.json["credited"] is False
    assert client.get("/balance", headers=h).json["balance"] == 0


def test_a_declined_payment_closes_the_top_up(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    started = client.post("/balance/top-ups", json={"amount": 500}, headers={**h, **key()}).json
    r = pay(client, deps, started, status="declined")
    assert r.status_code == 200 and r.json["status"] == "declined"
    # A "paid" after it was declined credits nothing: an operator must look at it.
    r = pay(client, deps, started)
    assert r.status_code == 200 and r.json == {
        "id": started["id"],
        "status": "declined",
        "credited": False,
    }
    assert client.get("/balance", headers=h).json["balance"] == 0


def test_the_same_key_is_the_same_top_up_and_the_same_payment(client, db, minter, deps, provider):
    account = add_account(db)
    h = {**minter.headers(account), **key()}
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 202, r.json
    again = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert again.status_code == 202 and again.json["id"] == r.json["id"]
    other = client.post("/balance/top-ups", json={"amount": 700}, headers=h)
    assert other.status_code == 422  # the same key with another amount
    # The key outlived the HTTP idempotency record: our own top-up record still answers it,
    # and the provider is asked for nothing new.
    db.idempotency_keys.delete_many({})
    replay = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert replay.status_code == 202 and replay.json["id"] == r.json["id"]
    assert replay.json["redirect_url"] == r.json["redirect_url"]
    assert len(provider.calls) == 1
    assert pay(client, deps, r.json).json["credited"] is True
    db.idempotency_keys.delete_many({})
    paid = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert paid.status_code == 202 and paid.json["status"] == "paid"
    assert client.get("/balance", headers=h).json["balance"] == 500


def test_a_provider_that_is_down_is_503_and_the_same_key_retries(
    client, db, minter, deps, provider
):
    account = add_account(db)
    h = {**minter.headers(account), **key()}
    provider.fail = payments.PaymentUnavailable("HTTP 502")
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 503 and r.json["code"] == "payment_unavailable"
    assert r.headers["Retry-After"] == "30"
    provider.fail = None
    r = client.post("/balance/top-ups", json={"amount": 500}, headers=h)
    assert r.status_code == 202 and r.json["status"] == "pending"
    assert [c["reference"] for c in provider.calls] == [r.json["id"]] * 2


def test_someone_elses_top_up_is_not_found(client, db, minter, deps):
    mine = credit(client, deps, minter.headers(add_account(db)), 500)
    stranger = minter.headers(add_account(db))
    assert client.get(f"/balance/top-ups/{mine['id']}", headers=stranger).status_code == 404
    assert client.get("/balance/top-ups/nope", headers=stranger).status_code == 404


def test_bad_amounts_and_declines(client, db, minter):
    h = minter.headers(add_account(db))
    for amount, status in ((50, 422), (60_000, 422), ("100", 422), (None, 422)):
        r = client.post("/balance/top-ups", json={"amount": amount}, headers={**h, **key()})
        assert r.status_code == status, (amount, r.json)
        assert r.json["invalid_params"][0]["name"] == "amount"
    k = key()
    r = client.post("/balance/top-ups", json={"amount": 1013}, headers={**h, **k})
    assert r.status_code == 402
    assert r.json["code"] == "payment_declined"
    again = client.post("/balance/top-ups", json={"amount": 1013}, headers={**h, **k})
    assert again.status_code == 402
    assert client.get("/balance", headers=h).json["balance"] == 0


def test_ledger_is_paginated_and_private(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    for amount in (100, 200, 300):
        credit(client, deps, h, amount)
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
    credit(client, deps, minter.headers(account), top_up)
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


def test_concurrent_first_top_ups_are_all_credited(client, db, minter, deps):
    account = add_account(db)
    h = minter.headers(account)
    codes: list[int] = []

    def pay_in(amount: int) -> None:
        with client.application.test_client() as c:
            r = c.post("/balance/top-ups", json={"amount": amount}, headers={**h, **key()})
            codes.append(r.status_code)
            codes.append(pay(c, deps, r.json).status_code)

    threads = [threading.Thread(target=pay_in, args=(100 * (i + 1),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200] * 4 + [202] * 4
    assert client.get("/balance", headers=h).json["balance"] == 100 + 200 + 300 + 400
    assert db[store.LEDGER].count_documents({"account_id": account}) == 4
