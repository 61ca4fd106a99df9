"""sms-notify under test: the real app on the embedded MongoDB-compatible server, fake channels,
a clock the test moves, and tokens from a throw-away key."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest

from edu_common import accounts, mongo
from edu_common.testing import Clock, TokenMinter
from sms_notify import app as notify_app
from sms_notify import store
from sms_notify.adapters.channels import Outgoing
from sms_notify.settings import Settings

# A Monday 12:00 in Almaty (UTC+5): outside the default quiet hours.
NOON = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
PARENT = "acc-parent"
PARENT_PHONE = "+77010000001"
PARENT_EMAIL = "aigerim@example.kz"


class FakeSms:
    """An SMS provider that records what it took and fails as told, in order."""

    def __init__(self, provider: str = "fake", *failures: Exception):
        self.provider = provider
        self.failures = list(failures)
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"{self.provider}-{len(self.sent)}"


@pytest.fixture
def clock():
    return Clock(NOON)


@pytest.fixture
def channels():
    return {"sms": FakeSms("smsc"), "email": FakeSms("smtp")}


@pytest.fixture
def settings(mongo_url):
    return Settings(
        mongo_url=mongo_url,
        database=f"notify_{uuid.uuid4().hex[:10]}",
        amqp_url="amqp://guest:guest@127.0.0.1:5672/%2F",
    )


@pytest.fixture
def minter():
    return TokenMinter()


@pytest.fixture
def app(settings, minter, clock, channels, mongo_client):
    application = notify_app.create_app(
        settings, verifier=minter.verifier, clock=clock, channels=channels
    )
    application.testing = True
    yield application
    mongo_client.drop_database(settings.database)


@pytest.fixture
def deps(app):
    return app.extensions["sms-notify"]


@pytest.fixture
def db(deps):
    return deps.db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def plain_db(mongo_db):
    """A fresh database with our indexes, for tests without the app."""
    mongo.ensure_indexes(mongo_db, [*store.INDEXES, *accounts.INDEXES])
    return mongo_db


@pytest.fixture
def make_deps(mongo_url):
    """``make_deps(db, **fields)``: the service's Deps on ``db``, for tests without the app;
    no channels unless given, the settings' defaults unless ``settings=`` is given."""

    def make(db, **fields):
        settings = fields.pop("settings", None) or Settings(mongo_url=mongo_url, database=db.name)
        return notify_app.build_deps(settings, db=db, **{"channels": {}, **fields})

    return make


def add_account(db, account_id=PARENT, **fields) -> dict:
    doc = {
        "_id": account_id,
        "revision": 1,
        "iin": "950423451048",
        "full_name": "Aigerim Sarsenova",
        "roles": ["citizen"],
        "organization_id": None,
        "phone": PARENT_PHONE,
        "email": PARENT_EMAIL,
        "language": "kk",
        "active": True,
        "notifications_consent": True,
        **fields,
    }
    db[accounts.ACCOUNTS].replace_one({"_id": account_id}, doc, upsert=True)
    return doc


@pytest.fixture
def h():
    """The helpers above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(
        NOON=NOON,
        PARENT=PARENT,
        PARENT_PHONE=PARENT_PHONE,
        PARENT_EMAIL=PARENT_EMAIL,
        Clock=Clock,
        FakeSms=FakeSms,
        add_account=add_account,
    )
