"""identity under test: the real app on the embedded MongoDB-compatible server."""

from __future__ import annotations

import json
import uuid
from functools import cache
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
ADMIN_NEW_PASSWORD = "Chief-Changed-27"
MOTHER_IIN = "950423451048"  # in the population, phone +77010000001
MOTHER_PHONE = "+77010000001"
# A valid IIN the development registry does not know (a woman born 1995-04-23): a foreigner.
FOREIGNER_IIN = "950423450008"
FOREIGNER = {
    "iin": FOREIGNER_IIN,
    "surname": "Ivanova",
    "name": "Anna",
    "birth_date": "1995-04-23",
    "sex": "female",
    "citizenship": "RU",
    "document": {
        "type": "passport",
        "number": "75 1234567",
        "issued_at": "2019-05-01",
        "issuer": "MVD RF",
    },
}


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


FIXED_PEOPLE = {ADMIN_IIN, MOTHER_IIN, "100315544107", "230517512034", "230517612040"}


@cache
def _population() -> tuple[dict, ...]:
    data = json.loads((ROOT / "dev" / "population.json").read_text(encoding="utf-8"))
    return tuple(data["people"])


def adults(count: int, skip: int = 0) -> list[dict]:
    """Adults of the development registry with one linked phone, none of the fixed people."""
    found = [
        p
        for p in _population()
        if p["birth_date"] < "2006" and len(p["phones"]) == 1 and p["iin"] not in FIXED_PEOPLE
    ]
    return found[skip : skip + count]


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


def code_for(db, challenge_id: str) -> str:
    """The last code asked for under a challenge id (a registration's e-mail code is under the
    registration's id, its IIN proof under ID.iin, its phone code under ID.phone)."""
    sent = [
        d["body"]["data"]
        for d in db.outbox.find({"routing_key": "identity.code.requested.v1"}).sort("created_at", 1)
        if d["body"]["data"]["challenge_id"] == challenge_id
    ]
    assert sent, f"no code was sent for {challenge_id}"
    return sent[-1]["code"]


def start(client, db, email="aigerim@example.kz", **kw) -> str:
    """Step 1, the e-mail confirmed; answers the registration id."""
    r = client.post("/registrations", json={"email": email}, **kw)
    assert r.status_code == 201, r.json
    reg = r.json["id"]
    code = last_code(db, email)
    r = client.post(f"/registrations/{reg}/email/confirm", json={"code": code}, **kw)
    assert r.status_code == 200, r.json
    return reg


def prove(client, db, reg: str, iin: str = MOTHER_IIN, **kw) -> dict:
    """Step 2 for an IIN the registry knows: the code the SMS carried to the linked phone."""
    r = client.post(f"/registrations/{reg}/person", json={"iin": iin}, **kw)
    assert r.status_code == 200, r.json
    assert r.json["next_step"] == "person_confirmation" and r.json["person"] is None, r.json
    r = client.post(
        f"/registrations/{reg}/person/confirm", json={"code": code_for(db, f"{reg}.iin")}, **kw
    )
    assert r.status_code == 200, r.json
    return r.json


def give_phone(client, db, reg: str, phone: str = MOTHER_PHONE, **kw) -> dict:
    """Step 3: the phone, and its SMS code unless the IIN proof went to it already."""
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": phone}, **kw)
    assert r.status_code == 200, r.json
    if r.json["next_step"] == "contacts_confirmation":
        r = client.post(
            f"/registrations/{reg}/contacts/confirm",
            json={"code": code_for(db, f"{reg}.phone")},
            **kw,
        )
        assert r.status_code == 200, r.json
    return r.json


def finish(client, reg: str, password: str = PASSWORD, **kw) -> str:
    """Steps 4 and 5; answers the new account id."""
    r = client.put(
        f"/registrations/{reg}/password",
        json={"password": password, "password_confirmation": password},
        **kw,
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/registrations/{reg}/complete",
        json={"consents": {"personal_data": True, "notifications": True, "rules": True}},
        **kw,
    )
    assert r.status_code == 201, r.json
    return r.json["account_id"]


def register(
    client,
    db,
    *,
    email="aigerim@example.kz",
    iin=MOTHER_IIN,
    phone=MOTHER_PHONE,
    password=PASSWORD,
    **kw,
) -> str:
    """The five steps as a citizen makes them (the IIN proven by the SMS code to the linked
    phone; another phone confirmed by its own code); answers the new account id."""
    reg = start(client, db, email, **kw)
    prove(client, db, reg, iin, **kw)
    give_phone(client, db, reg, phone, **kw)
    return finish(client, reg, password, **kw)


def login(client, iin=MOTHER_IIN, password=PASSWORD, **kw) -> dict:
    r = client.post("/sessions", json={"iin": iin, "password": password}, **kw)
    assert r.status_code == 201, r.json
    return r.json


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def admin_tokens(client, **kw) -> dict:
    """The bootstrap admin's tokens; at its first sign-in it changes its password, as it must."""
    r = client.post("/sessions", json={"iin": ADMIN_IIN, "password": ADMIN_PASSWORD}, **kw)
    if r.status_code == 401:
        return login(client, ADMIN_IIN, ADMIN_NEW_PASSWORD, **kw)
    assert r.status_code == 201, r.json
    if not r.json["password_change_required"]:
        return r.json
    body = {
        "current_password": ADMIN_PASSWORD,
        "new_password": ADMIN_NEW_PASSWORD,
        "new_password_confirmation": ADMIN_NEW_PASSWORD,
    }
    changed = client.post("/me/password", json=body, headers=bearer(r.json), **kw)
    assert changed.status_code == 200, changed.json
    return login(client, ADMIN_IIN, ADMIN_NEW_PASSWORD, **kw)


def admin(client, **kw) -> dict:
    return bearer(admin_tokens(client, **kw))


@pytest.fixture
def h():
    """The helpers above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(
        adults=adults,
        codes_sent=codes_sent,
        last_code=last_code,
        code_for=code_for,
        events_of=events_of,
        start=start,
        prove=prove,
        give_phone=give_phone,
        finish=finish,
        register=register,
        login=login,
        bearer=bearer,
        admin_tokens=admin_tokens,
        admin=admin,
        PASSWORD=PASSWORD,
        ADMIN_IIN=ADMIN_IIN,
        ADMIN_PASSWORD=ADMIN_PASSWORD,
        ADMIN_NEW_PASSWORD=ADMIN_NEW_PASSWORD,
        MOTHER_IIN=MOTHER_IIN,
        MOTHER_PHONE=MOTHER_PHONE,
        FOREIGNER_IIN=FOREIGNER_IIN,
        FOREIGNER=FOREIGNER,
    )
