"""Fixtures and helpers of the subscription, balance, conversation and journal tests.

Test modules import the fixtures by name (``from notify_school_support import *``): they replace
conftest.py's app with one on a Wednesday in November, the development population and a price
per segment. The app under test is the service's own ``create_app``, on SecantusDB, with tokens
from a throw-away key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from edu_common import accounts, consumer
from edu_common.envelope import Envelope, EventType
from edu_common.registry import JsonFileRegistry
from edu_common.testing import Clock, TokenMinter
from sms_notify import app as notify_app
from sms_notify import store, worker
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
) -> str:
    account_id = account_id or uuid.uuid4().hex
    db[accounts.ACCOUNTS].replace_one(
        {"_id": account_id},
        {
            "revision": 1,
            "iin": iin,
            "full_name": full_name,
            "roles": list(roles),
            "organization_id": None,
            "phone": phone,
            "email": email,
            "language": language,
            "active": active,
            "notifications_consent": True,
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
def app(settings, mongo_db, clock, minter, registry):
    """The service's own composition root, given our settings, clock and registry."""
    application = notify_app.create_app(
        settings, verifier=minter.verifier, clock=clock, channels={}, db=mongo_db, registry=registry
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
    "registry",
    "settings",
    "worker_bindings",
]
