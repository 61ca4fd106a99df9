"""A top-up end to end: sms-notify's web app serving HTTP, the dev inbox's stand-in of the
payment provider (its own process), the citizen's "pay" on the provider's page, and the signed
callback the provider sends back, which alone credits the balance (PAYMENTS.md)."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import POPULATION, WEDNESDAY, add_account

from edu_common.registry import JsonFileRegistry
from edu_common.testing import Clock, TokenMinter
from sms_notify import app as notify_app
from sms_notify.adapters import payments
from sms_notify.settings import Settings

pytestmark = pytest.mark.integration


class LiveService:
    """sms-notify's own create_app, serving HTTP on a free port in a thread."""

    def __init__(self, settings: Settings, port: int, db):
        self.minter = TokenMinter()
        self.app = notify_app.create_app(
            settings,
            verifier=self.minter.verifier,
            clock=Clock(WEDNESDAY),
            channels={},
            db=db,
            registry=JsonFileRegistry(POPULATION),
        )
        self.deps = self.app.extensions["sms-notify"]
        self.url = f"http://127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def service(inbox, mongo_url, mongo_db, unused_port):
    settings = Settings(
        mongo_url=mongo_url,
        database=mongo_db.name,
        amqp_url="amqp://unused/",
        payment_adapter="dev",
        payment_provider_url=inbox.url,
        payment_callback_url=f"http://127.0.0.1:{unused_port}/providers/payments/callback",
        payment_timeout=5.0,
    )
    live = LiveService(settings, unused_port, mongo_db)
    yield live
    live.stop()


def headers(service, account: str) -> dict:
    return {**service.minter.headers(account), "Idempotency-Key": uuid.uuid4().hex}


def balance(service, account: str) -> int:
    r = requests.get(f"{service.url}/balance", headers=service.minter.headers(account), timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["balance"]


def start_top_up(service, account: str, amount: int, h: dict | None = None):
    return requests.post(
        f"{service.url}/balance/top-ups",
        json={"amount": amount},
        headers=h or headers(service, account),
        timeout=10,
    )


def payment_id(redirect_url: str) -> str:
    return redirect_url.rstrip("/").split("/")[-2]


def test_paid_on_the_providers_page_credits_once(service, inbox):
    account = add_account(service.deps.db)
    r = start_top_up(service, account, 1500)
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "pending" and started["balance"] == 0
    assert started["redirect_url"].startswith(inbox.url)
    # The citizen's browser goes there: the provider's page.
    page = requests.get(started["redirect_url"], timeout=5)
    assert page.status_code == 200 and "1500 KZT" in page.text
    assert balance(service, account) == 0

    pid = payment_id(started["redirect_url"])
    paid = requests.post(f"{inbox.url}/payments/{pid}/pay", timeout=15).json()
    assert paid["status"] == "paid"
    assert paid["callback"]["status_code"] == 200, paid["callback"]
    assert paid["callback"]["body"] == {"id": started["id"], "status": "paid", "credited": True}
    assert balance(service, account) == 1500

    # The provider repeats its callback: answered, credited nothing.
    again = requests.post(f"{inbox.url}/payments/{pid}/pay", timeout=15).json()
    assert again["callback"]["status_code"] == 200
    assert again["callback"]["body"]["credited"] is False
    assert balance(service, account) == 1500
    r = requests.get(
        f"{service.url}/balance/top-ups/{started['id']}",
        headers=service.minter.headers(account),
        timeout=5,
    )
    assert r.json()["status"] == "paid"


def test_the_same_key_is_one_payment_at_the_provider(service, inbox):
    account = add_account(service.deps.db)
    h = headers(service, account)
    first = start_top_up(service, account, 500, h).json()
    service.deps.db.idempotency_keys.delete_many({})  # past the HTTP replay: our record answers
    second = start_top_up(service, account, 500, h).json()
    assert first["id"] == second["id"] and first["redirect_url"] == second["redirect_url"]
    mine = [p for p in requests.get(f"{inbox.url}/payments", timeout=5).json()]
    assert [p["reference"] for p in mine].count(first["id"]) == 1


def test_declined_on_the_providers_page(service, inbox):
    account = add_account(service.deps.db)
    started = start_top_up(service, account, 700).json()
    pid = payment_id(started["redirect_url"])
    declined = requests.post(f"{inbox.url}/payments/{pid}/decline", timeout=15).json()
    assert declined["callback"]["body"]["status"] == "declined"
    # Paying afterwards changes nothing at the provider or here.
    later = requests.post(f"{inbox.url}/payments/{pid}/pay", timeout=15).json()
    assert later["status"] == "declined" and later["callback"]["body"]["credited"] is False
    assert balance(service, account) == 0


def test_the_provider_refusing_or_failing(service, inbox):
    account = add_account(service.deps.db)
    r = start_top_up(service, account, 1013)  # the stand-in declines amounts ending in 13
    assert r.status_code == 402 and r.json()["code"] == "payment_declined"
    for mode in ("500", "garbage"):
        fault = {"provider": "payments", "mode": mode, "count": 1}
        assert requests.post(f"{inbox.url}/admin/faults", json=fault, timeout=5).ok
        h = headers(service, account)
        r = start_top_up(service, account, 500, h)
        assert r.status_code == 503 and r.json()["code"] == "payment_unavailable", mode
        # Once the provider is back, the same key goes through.
        assert start_top_up(service, account, 500, h).status_code == 202


def test_a_callback_signed_with_another_secret_is_refused(service, inbox):
    account = add_account(service.deps.db)
    started = start_top_up(service, account, 500).json()
    pid = payment_id(started["redirect_url"])
    body = (
        f'{{"payment_id": "{pid}", "reference": "{started["id"]}", "status": "paid", '
        '"amount": 500, "currency": "KZT"}'
    ).encode()
    r = requests.post(
        f"{service.url}/providers/payments/callback",
        data=body,
        headers={"X-Signature": payments.signature("guessed-secret", body)},
        timeout=5,
    )
    assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
    assert balance(service, account) == 0
