"""The worker process against the real RabbitMQ and the embedded database: it keeps the accounts
copy from identity's events, runs the lapse sweep on its own, and relays the events it records.
The registry here is the development population (dev/population.json): a real parent check."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pika
import pytest

from edu_common import accounts
from edu_common.testing import Clock, TokenMinter, envelope, publish
from kindergarten import app as kg_app
from kindergarten import store
from kindergarten.settings import Settings

from .conftest import GROUP, KG, seed_catalogue

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
FATHER_IIN = "880714327312"  # father of twins 230517512034 and 230517612040
TWINS = ("230517512034", "230517612040")


def _patient(amqp_url: str) -> str:
    # A loaded test machine can be slow to finish the AMQP handshake: be patient, not flaky.
    sep = "&" if "?" in amqp_url else "?"
    return f"{amqp_url}{sep}connection_attempts=3&retry_delay=1&socket_timeout=20&stack_timeout=30"


def _params(amqp_url: str) -> pika.URLParameters:
    return pika.URLParameters(_patient(amqp_url))


@pytest.fixture
def listener(amqp_url):
    """A queue bound to everything kindergarten publishes in public."""
    connection = pika.BlockingConnection(_params(amqp_url))
    channel = connection.channel()
    channel.exchange_declare("kindergarten.events", "topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, "kindergarten.events", "#")
    got: list[dict] = []

    def received() -> list[str]:
        while True:
            method, _props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            got.append(json.loads(body))
        return [m["type"] for m in got]

    yield received
    connection.close()


@pytest.fixture
def worker_process(mongo_url, amqp_url, tmp_path):
    database = f"kgw_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "MONGO_URL": mongo_url,
        "MONGO_DATABASE": database,
        "AMQP_URL": amqp_url,
        "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
        "KG_SWEEP_SECONDS": "1",
        "WORKER_PORT": "0",
        "LOG_LEVEL": "WARNING",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "kindergarten.worker"], env=env, stdout=log, stderr=log, cwd=ROOT
    )
    yield database
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    print((tmp_path / "worker.log").read_text(errors="replace")[-5000:])  # shown on failure


def _queue_exists(amqp_url: str, name: str) -> bool:
    connection = pika.BlockingConnection(_params(amqp_url))
    try:
        connection.channel().queue_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_the_worker_copies_accounts_lapses_referrals_and_relays_events(
    worker_process, mongo_client, mongo_url, amqp_url, listener, wait_until
):
    database = worker_process
    db = mongo_client[database]
    try:
        # Published before the worker bound its queue, the event would go nowhere.
        wait_until(
            lambda: _queue_exists(amqp_url, "kindergarten.accounts"),
            timeout=60,
            message="the worker's accounts queue",
        )
        publish(
            _patient(amqp_url),
            accounts.ACCOUNT_CHANGED,
            envelope(
                accounts.ACCOUNT_CHANGED,
                {
                    "account_id": "acc-father",
                    "revision": 1,
                    "iin": FATHER_IIN,
                    "full_name": "Ахметов Ерлан",
                    "birth_date": "1988-07-14",
                    "roles": ["citizen"],
                    "organization_id": None,
                    "phone": "+77010000020",
                    "email": None,
                    "language": "kk",
                    "active": True,
                    "notifications_consent": True,
                    "verified": True,  # proven: only such an account applies for a place
                },
            ),
        )
        wait_until(
            lambda: accounts.get(db, "acc-father") is not None,
            timeout=30,
            message="the accounts copy from identity's event",
        )
        # The web side, its clock ten days back: the referrals it offers are past their time.
        settings = Settings(
            mongo_url=mongo_url,
            database=database,
            amqp_url=amqp_url,
            registry_url=str(ROOT / "dev" / "population.json"),
        )
        minter = TokenMinter()
        clock = Clock(dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
        client = kg_app.create_app(settings, verifier=minter.verifier, clock=clock).test_client()
        seed_catalogue(db)
        father = minter.headers("acc-father")
        for iin in TWINS:
            resp = client.post(
                "/applications",
                json={
                    "child_iin": iin,
                    "district_id": "d-yesil",
                    "kindergarten_ids": [KG],
                    "language": "ru",
                },
                headers=father,
            )
            assert resp.status_code == 201, resp.json
        staff = minter.headers("acc-staff", roles=["kindergarten_staff"], organization_id=KG)
        published = client.post(
            f"/kindergartens/{KG}/groups/{GROUP}/places", json={"count": 2}, headers=staff
        )
        assert published.json["offered"] == 2  # the twins, together

        wait_until(
            lambda: db[store.REFERRALS].count_documents({"status": "expired"}) == 2,
            timeout=30,
            message="the worker's sweep lapses the referrals",
        )
        wait_until(
            lambda: listener().count("kindergarten.referral.expired") == 2,
            timeout=30,
            message="the relay publishes the expiries",
        )
        types = listener()
        assert types.count("kindergarten.application.registered") == 2
        assert types.count("kindergarten.referral.offered") == 2
        app = db[store.APPLICATIONS].find_one({"child_iin": TWINS[0]})
        assert app["status"] == "queued" and app["stop_until"] is not None
    finally:
        mongo_client.drop_database(database)
