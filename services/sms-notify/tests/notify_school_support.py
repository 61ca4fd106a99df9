"""Fixtures and helpers of the subscription, balance, conversation and journal tests.

Test modules import the fixtures by name (``from notify_school_support import *``): they replace
conftest.py's app with one on a Wednesday in November, the development population and a price
per segment. The app under test is the service's own ``create_app``, on SecantusDB, with tokens
from a throw-away key.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path

import pytest

from edu_common import accounts, consumer
from edu_common.envelope import Envelope, EventType
from edu_common.registry import JsonFileRegistry
from edu_common.testing import Clock, TokenMinter
from sms_notify import app as notify_app
from sms_notify import store, worker
from sms_notify.adapters import payments
from sms_notify.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
POPULATION = ROOT / "dev" / "population.json"

# From the development population: a student and both parents.
STUDENT_IIN = "081009542946"
MOTHER_IIN = "890615480160"
FATHER_IIN = "850128314181"
STRANGER_IIN = "880714327312"  # an adult who is nobody's parent of STUDENT_IIN
UNKNOWN_STUDENT = "150101590017"  # a valid IIN the registry does not know

WEDNESDAY = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)  # 14:00 in Almaty


def add_account(
    db,
    account_id: str | None = None,
    *,
    iin: str = MOTHER_IIN,
    roles=("citizen",),
    phone: str | None = "+77010000101",
    email: str | None = "parent@example.kz",
    language: str = "ru",
    full_name: str = "Айгерим Сейтова",
    active: bool = True,
    organization_id: str | None = None,
    **more,
) -> str:
    account_id = account_id or uuid.uuid4().hex
    db[accounts.ACCOUNTS].replace_one(
        {"_id": account_id},
        {
            "revision": 1,
            "iin": iin,
            "full_name": full_name,
            "roles": list(roles),
            "organization_id": organization_id,
            "phone": phone,
            "email": email,
            "language": language,
            "active": active,
            "notifications_consent": True,
            **more,
        },
        upsert=True,
    )
    return account_id


def envelope(event: EventType, data: dict, **kw) -> Envelope:
    """An envelope as the journal would publish it, read back as a consumer reads it."""
    return Envelope.from_dict(event.make(data, **kw).to_dict())


def handle(db, binding, env: Envelope) -> bool:
    """Run a worker binding's handler once, as the consumer does (inbox + transaction)."""
    return consumer.handle_once(db, f"sms-notify.{binding.name}", binding, env)


def messages(db, **query) -> list[dict]:
    return list(db[store.MESSAGES].find(query).sort("created_at", 1))


class FakeProvider:
    """A payment provider in this process (the contract of PAYMENTS.md): one payment per
    reference, amounts ending in 13 refused, ``fail`` raised while set. The outcome comes only
    from a signed callback the test posts (``pay``)."""

    name = "fake"

    def __init__(self):
        self.created: dict[str, payments.PaymentCreated] = {}
        self.calls: list[dict] = []
        self.fail: Exception | None = None
        self._lock = threading.Lock()

    def create(self, **request) -> payments.PaymentCreated:
        with self._lock:
            self.calls.append(request)
            if self.fail is not None:
                raise self.fail
            if request["amount"] % 100 == 13:
                raise payments.PaymentRefused("Declined by the card's bank.")
            ref = request["reference"]
            if ref not in self.created:
                n = len(self.created) + 1
                self.created[ref] = payments.PaymentCreated(
                    f"pay-{n}", f"https://pay.example.kz/checkout/{n}"
                )
            return self.created[ref]


def callback_body(top_up: dict, status: str = "paid", **over) -> bytes:
    """The provider's callback for a top-up as our API answered it."""
    n = top_up["redirect_url"].rsplit("/", 1)[-1]
    body = {
        "payment_id": f"pay-{n}",
        "reference": top_up["id"],
        "status": status,
        "amount": top_up["amount"],
        "currency": top_up["currency"],
        **over,
    }
    return json.dumps(body).encode()


def post_callback(client, raw: bytes, secret: str | None = None, signature: str | None = None):
    """POST a callback as the provider does: signed with ``secret`` (or the given header)."""
    headers = {"Content-Type": "application/json"}
    if signature is None and secret is not None:
        signature = payments.signature(secret, raw)
    if signature is not None:
        headers["X-Signature"] = signature
    return client.post("/providers/payments/callback", data=raw, headers=headers)


def pay(client, deps, top_up: dict, status: str = "paid"):
    """The provider says the top-up's payment is paid (or declined), signed as it must be."""
    return post_callback(client, callback_body(top_up, status), deps.settings.payment_secret)


def credit(client, deps, headers: dict, amount: int) -> dict:
    """A top-up all the way: asked for (202 pending), then paid by the provider's callback."""
    started = client.post("/balance/top-ups", json={"amount": amount}, headers={**headers, **key()})
    assert started.status_code == 202, started.json
    answer = pay(client, deps, started.json)
    assert answer.status_code == 200 and answer.json["credited"] is True, answer.json
    return started.json


@pytest.fixture
def clock():
    return Clock(WEDNESDAY)


@pytest.fixture
def settings(mongo_url, mongo_db):
    return Settings(
        mongo_url=mongo_url,
        database=mongo_db.name,
        amqp_url="amqp://unused/",
        price_per_segment=10,
        attachment_max_bytes=64 * 1024,
    )


@pytest.fixture(scope="session")
def registry():
    return JsonFileRegistry(POPULATION)


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def provider():
    return FakeProvider()


@pytest.fixture
def app(settings, mongo_db, clock, minter, registry, provider):
    """The service's own composition root, given our settings, clock, registry and provider."""
    application = notify_app.create_app(
        settings,
        verifier=minter.verifier,
        clock=clock,
        channels={},
        db=mongo_db,
        registry=registry,
        payments=provider,
    )
    application.testing = True
    return application


@pytest.fixture
def deps(app):
    return app.extensions["sms-notify"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(deps):
    return deps.db


@pytest.fixture
def worker_bindings(deps):
    """The journal's bindings by name, as the worker consumes them."""
    return {binding.name: binding for binding in worker.journal_bindings(deps)}


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


__all__ = [
    "app",
    "client",
    "clock",
    "db",
    "deps",
    "minter",
    "provider",
    "registry",
    "settings",
    "worker_bindings",
]
