"""Shared addresses are normal: thirty applicants in one college computer room (one public
address behind the college's NAT) all register, codes included, and sign in through the
gateway at the same time, without a single 429. Real identity and gateway processes with their
default limits, behind a stand-in Ingress (as deployed: GATEWAY_TRUSTED_PROXIES=1 and
TRUSTED_PROXIES=1), all thirty from one client address.

The registration steps are in one helper, ``register``: identity's flow as it stands (an
e-mail code; the IIN proven by an SMS code to the phone the mobile-citizens database links to
it; the cabinet's phone confirmed by a code unless it is that same phone; the password; the
consents). When identity's steps change, only that helper changes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from pathlib import Path

import pymongo
import pytest
import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "gateway" / "tests"))  # the gateway's test helpers (unique names)

from gateway_support import VENV_BIN, Proc, free_port, wait_until  # noqa: E402

from edu_common.contracts.identity import CODE_REQUESTED  # noqa: E402
from identity.tokens import generate_key_file  # noqa: E402
from identity.tools import devca  # noqa: E402

pytestmark = pytest.mark.integration
ROOM = "127.0.0.5"  # the college's one public address
INGRESS = "127.0.0.9"
PEOPLE = 30
ADMIN_IIN = "880714327312"
# The whole room must be done well within five minutes (the scenario's window): a deadline.
DEADLINE_SECONDS = 300


def _people() -> list[dict]:
    """Thirty adults of the development population, each with a phone of their own."""
    people = json.loads((ROOT / "dev" / "population.json").read_text(encoding="utf-8"))["people"]
    fit = [
        p
        for p in people
        if p["phones"] and p["birth_date"] <= "2007-01-01" and p["iin"] != ADMIN_IIN
    ]
    seen, chosen = set(), []
    for p in fit:
        if p["phones"][0] not in seen:
            seen.add(p["phones"][0])
            chosen.append(p)
    return chosen[:PEOPLE]


@pytest.fixture(scope="module")
def platform(mongo_url, tmp_path_factory):
    """identity, the gateway (default limits) and an Ingress in front, as processes."""
    base = tmp_path_factory.mktemp("room")
    generate_key_file(base / "keys")
    devca.init_ca(base / "ca")
    (base / "pepper").write_text("test-pepper-0123456789")
    database = f"identity_{uuid.uuid4().hex[:10]}"
    started: list[Proc] = []

    def start(argv, env, name, url):
        proc = Proc(argv, {**os.environ, **env}, base / f"{name}.log", url)
        started.append(proc)
        wait_until(proc.alive, timeout=60, message=name)
        return proc

    try:
        identity_port = free_port()
        identity = start(
            [str(VENV_BIN / "gunicorn"), "--config", "python:edu_common.gunicorn_conf",
             "identity.app:create_app()"],
            {
                "PORT": str(identity_port), "WEB_CONCURRENCY": "1", "WEB_THREADS": "8",
                "MONGO_URL": mongo_url, "MONGO_DATABASE": database,
                "AMQP_URL": "filesystem://", "BUS_DIR": str(base / "bus"),
                "JWT_SIGNING_KEYS_DIR": str(base / "keys"),
                "CODE_PEPPER_FILE": str(base / "pepper"),
                "EDS_TRUSTED_CA_FILE": str(base / "ca" / "ca.pem"),
                "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
                "TRUSTED_PROXIES": "1",  # the gateway
                "PROMETHEUS_MULTIPROC_DIR": str(base / "prom-identity"),
            },
            "identity",
            f"http://127.0.0.1:{identity_port}",
        )  # fmt: skip
        gateway_port = free_port()
        gateway = start(
            [str(VENV_BIN / "gunicorn"), "-c", "python:gateway.gunicorn_conf",
             "gateway.server:runner"],
            {
                "PORT": str(gateway_port), "WEB_CONCURRENCY": "1",
                "GATEWAY_UPSTREAMS": f"identity={identity.url}",
                "IDENTITY_JWKS_URL": f"{identity.url}/.well-known/jwks.json",
                "GATEWAY_TRUSTED_PROXIES": "1",  # the Ingress; every limit at its default
                "PROMETHEUS_MULTIPROC_DIR": str(base / "prom-gateway"),
            },
            "gateway",
            f"http://127.0.0.1:{gateway_port}",
        )  # fmt: skip
        wait_until(
            lambda: requests.get(f"{gateway.url}/readyz", timeout=2).status_code == 200,
            timeout=30,
            message="the gateway has identity's keys",
        )
        ingress_port = free_port()
        ingress = start(
            [sys.executable, str(ROOT / "gateway" / "tests" / "ingress_stub.py"),
             str(ingress_port), gateway.url, INGRESS],
            {},
            "ingress",
            f"http://127.0.0.1:{ingress_port}",
        )  # fmt: skip
        client = pymongo.MongoClient(mongo_url, tz_aware=True)
        yield ingress, client[database]
        client.drop_database(database)
        client.close()
    finally:
        for proc in reversed(started):
            proc.stop()


class FromAddress(HTTPAdapter):
    """Connections from one source address: everyone in the room is the room's address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser() -> requests.Session:
    s = requests.Session()
    s.mount("http://", FromAddress(ROOM))
    return s


class Person:
    """One applicant at one of the room's computers; every answer is kept."""

    def __init__(self, base_url: str, db, record: dict, n: int):
        self.base = f"{base_url}/api/identity"
        self.db = db
        self.record = record
        self.n = n
        self.http = browser()
        self.statuses: list[tuple[str, int]] = []

    def call(self, method: str, path: str, expect: int, **kw) -> dict:
        r = self.http.request(method, self.base + path, timeout=60, **kw)
        self.statuses.append((f"{method} {path.split('/')[-1] or path}", r.status_code))
        assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else {}

    def code(self, purpose: str, to: str) -> str:
        """The newest code identity asked to send there (what the SMS or e-mail carries)."""

        def newest():
            docs = list(
                self.db["outbox"]
                .find(
                    {
                        "routing_key": CODE_REQUESTED.routing_key,
                        "body.data.purpose": purpose,
                        "body.data.to": to,
                    }
                )
                .sort("created_at", -1)
                .limit(1)
            )
            return docs[0]["body"]["data"]["code"] if docs else None

        return wait_until(newest, timeout=30, message=f"the {purpose} code")


def register(person: Person) -> str:
    """identity's registration, every step as a person in the room does it, through the
    gateway; the codes read from what identity asks to be sent. Returns the account id."""
    record, n = person.record, person.n
    email = f"room{n}-{uuid.uuid4().hex[:6]}@college.example.kz"
    reg = person.call("POST", "/registrations", 201, json={"email": email, "language": "ru"})
    rid = reg["id"]
    person.call(
        "POST",
        f"/registrations/{rid}/email/confirm",
        200,
        json={"code": person.code("email_confirmation", email)},
    )
    step = person.call("POST", f"/registrations/{rid}/person", 200, json={"iin": record["iin"]})
    assert step["next_step"] == "person_confirmation", step
    proven = person.call(
        "POST",
        f"/registrations/{rid}/person/confirm",
        200,
        json={"code": person.code("iin_confirmation", record["phones"][0])},
    )
    assert proven["person"]["iin"] == record["iin"]
    # Half keep the phone the IIN code went to (confirmed by it), half give another one.
    phone = record["phones"][0] if n % 2 == 0 else f"+7705{n:07d}"
    step = person.call("PUT", f"/registrations/{rid}/contacts", 200, json={"phone": phone})
    if step["next_step"] == "contacts_confirmation":
        person.call(
            "POST",
            f"/registrations/{rid}/contacts/confirm",
            200,
            json={"code": person.code("phone_confirmation", phone)},
        )
    password = f"Kolledzh-{n:02d}-Aq!"
    person.call(
        "PUT",
        f"/registrations/{rid}/password",
        200,
        json={"password": password, "password_confirmation": password},
    )
    done = person.call(
        "POST",
        f"/registrations/{rid}/complete",
        201,
        json={"consents": {"personal_data": True, "notifications": True, "rules": True}},
    )
    person.password = password
    return done["account_id"]


def test_thirty_people_behind_one_address_register_and_sign_in(platform):
    ingress, db = platform
    people = [Person(ingress.url, db, record, n) for n, record in enumerate(_people())]
    assert len(people) == PEOPLE
    failures: list[str] = []
    accounts: dict[int, str] = {}
    start = threading.Barrier(PEOPLE)

    def one(person: Person) -> None:
        try:
            start.wait(timeout=60)  # the whole room at once
            accounts[person.n] = register(person)
            tokens = person.call(
                "POST",
                "/sessions",
                201,
                json={"iin": person.record["iin"], "password": person.password},
            )
            me = person.http.get(
                f"{person.base}/me",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
                timeout=60,
            )
            person.statuses.append(("GET me", me.status_code))
            assert me.status_code == 200, me.text
        except Exception as exc:  # reported below, with every answer the person got
            failures.append(f"person {person.n}: {exc}")

    threads = [threading.Thread(target=one, args=(p,), daemon=True) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE_SECONDS)
    assert not any(t.is_alive() for t in threads), "the room was not done within five minutes"
    limited = [(p.n, step) for p in people for step, status in p.statuses if status == 429]
    assert limited == [], limited
    assert failures == [], "\n".join(failures)
    assert len(accounts) == PEOPLE
    # Each step of each person went through: about 270 requests from one address.
    assert sum(len(p.statuses) for p in people) >= PEOPLE * 8
    # identity saw the room's address, not the Ingress's or the gateway's, for every sign-in.
    clients = {s.get("client") for s in db["sessions"].find({}, {"client": 1})}
    assert clients == {ROOM}
