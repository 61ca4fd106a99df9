"""identity under test: the real app on the embedded MongoDB-compatible server."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from edu_common.testing import Clock
from identity import app as identity_app
from identity.domain.passwords import PasswordHasher
from identity.settings import Settings
from identity.tokens import generate_key_file
from identity.tools import devca

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Qwerty-2025"
ADMIN_IIN = "880714327312"  # a man from the development population
ADMIN_PASSWORD = "Admin-Pass-1"
MOTHER_IIN = "950423451048"  # in the population, phone +77010000001
MOTHER_PHONE = "+77010000001"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def eds_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("eds")
    devca.init_ca(d)
    return d


@pytest.fixture
def settings(mongo_url, tmp_path, eds_dir):
    keys = tmp_path / "keys"
    generate_key_file(keys)
    return Settings(
        mongo_url=mongo_url,
        database=f"identity_{uuid.uuid4().hex[:10]}",
        code_pepper=b"test-pepper-0123456789",
        signing_keys_dir=str(keys),
        registry_url=str(ROOT / "dev" / "population.json"),
        eds_trusted_ca_file=str(eds_dir / "ca.pem"),
        bootstrap_admin_iin=ADMIN_IIN,
        bootstrap_admin_password=ADMIN_PASSWORD,
        bootstrap_admin_email="admin@example.kz",
        bootstrap_admin_phone="+77010000002",
    )


@pytest.fixture
def app(settings, clock, mongo_client):
    # Cheap argon2 parameters keep the suite fast; the defaults are tested in test_passwords.
    application = identity_app.create_app(
        settings, clock=clock, hasher=PasswordHasher(memory_cost=1024, time_cost=1)
    )
    application.testing = True
    yield application
    mongo_client.drop_database(settings.database)


@pytest.fixture
def deps(app):
    return app.extensions["identity"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(deps):
    return deps.db


def codes_sent(db, to: str) -> list[dict]:
    """What identity asked sms-notify to deliver to `to`, oldest first (read from the outbox)."""
    return [
        d["body"]["data"]
        for d in db.outbox.find({"routing_key": "identity.code.requested.v1"}).sort("created_at", 1)
        if d["body"]["data"]["to"] == to
    ]


def last_code(db, to: str) -> str:
    sent = codes_sent(db, to)
    assert sent, f"no code was sent to {to}"
    return sent[-1]["code"]


def events_of(db, routing_key: str) -> list[dict]:
    return [d["body"] for d in db.outbox.find({"routing_key": routing_key})]


def register(
    client, db, *, email="aigerim@example.kz", iin=MOTHER_IIN, phone=MOTHER_PHONE, password=PASSWORD
) -> str:
    """The five steps; answers the new account id."""
    r = client.post("/registrations", json={"email": email})
    assert r.status_code == 201, r.json
    reg = r.json["id"]
    r = client.post(f"/registrations/{reg}/email/confirm", json={"code": last_code(db, email)})
    assert r.status_code == 200, r.json
    r = client.post(f"/registrations/{reg}/person", json={"iin": iin})
    assert r.status_code == 200, r.json
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": phone})
    assert r.status_code == 200, r.json
    r = client.put(
        f"/registrations/{reg}/password",
        json={"password": password, "password_confirmation": password},
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/registrations/{reg}/complete",
        json={"consents": {"personal_data": True, "notifications": True, "rules": True}},
    )
    assert r.status_code == 201, r.json
    return r.json["account_id"]


def login(client, iin=MOTHER_IIN, password=PASSWORD) -> dict:
    r = client.post("/sessions", json={"iin": iin, "password": password})
    assert r.status_code == 201, r.json
    return r.json


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def h():
    """The helpers above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(
        codes_sent=codes_sent,
        last_code=last_code,
        events_of=events_of,
        register=register,
        login=login,
        bearer=bearer,
        PASSWORD=PASSWORD,
        ADMIN_IIN=ADMIN_IIN,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        MOTHER_IIN=MOTHER_IIN,
        MOTHER_PHONE=MOTHER_PHONE,
    )
