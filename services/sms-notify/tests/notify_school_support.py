"""Fixtures and helpers of the subscription, balance, conversation and journal tests.

Test modules import the fixtures by name (``from notify_school_support import *``): the folder's
conftest.py belongs to the delivery core. The app under test is the service's Flask app factory
with its blueprints, on SecantusDB, with tokens from a throw-away key.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from edu_common import accounts, consumer
from edu_common.envelope import Envelope, EventType
from edu_common.registry import JsonFileRegistry
from edu_common.testing import TokenMinter
from sms_notify import api_school, store, subscriptions_worker
from sms_notify import app as notify_app
from sms_notify.domain.limits import Limits
from sms_notify.settings import Settings
from sms_notify.settings_school import SchoolDeps, SchoolSettings
from sms_notify.usecases import outgoing

ROOT = Path(__file__).resolve().parents[3]
POPULATION = ROOT / "dev" / "population.json"

# From the development population: a student and both parents.
STUDENT_IIN = "081009542946"
MOTHER_IIN = "890615480160"
FATHER_IIN = "850128314181"
STRANGER_IIN = "880714327312"  # an adult who is nobody's parent of STUDENT_IIN
UNKNOWN_STUDENT = "150101590017"  # a valid IIN the registry does not know


class Clock:
    def __init__(self, now: dt.datetime | None = None):
        self.now = now or dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)  # a Wednesday

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += dt.timedelta(**kw)


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


def handle(db, sub, env: Envelope) -> bool:
    """Run a worker subscription's handler once, as the consumer does (inbox + transaction)."""
    return consumer.handle_once(db, f"sms-notify.{sub.name}", sub, env)


def messages(db, **query) -> list[dict]:
    return list(db[store.MESSAGES].find(query).sort("created_at", 1))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def school_settings():
    return SchoolSettings(price_per_segment=10, attachment_max_bytes=64 * 1024)


@pytest.fixture(scope="session")
def registry():
    return JsonFileRegistry(POPULATION)


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def app(mongo_url, mongo_db, clock, minter, school_settings, registry):
    """The service's own composition root, with the school deps given our settings and registry."""
    settings = Settings(mongo_url=mongo_url, database=mongo_db.name, amqp_url="amqp://unused/")
    application = notify_app.create_app(
        settings, verifier=minter.verifier, clock=clock, channels={}, db=mongo_db
    )
    application.testing = True
    base = application.extensions["sms-notify"]
    application.extensions[api_school.EXTENSION] = SchoolDeps(
        base, school_settings, registry=registry
    )
    yield application
    outgoing.configure(Limits())


@pytest.fixture
def school(app):
    return app.extensions[api_school.EXTENSION]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(school):
    return school.db


@pytest.fixture
def worker_subs(school):
    return {sub.name: sub for sub in subscriptions_worker.subscriptions(school)}


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


__all__ = [
    "app",
    "client",
    "clock",
    "db",
    "minter",
    "registry",
    "school",
    "school_settings",
    "worker_subs",
]
