"""The worker process against the real RabbitMQ and the embedded database: it keeps the accounts
copy from identity's events, relays the outbox once per event (message id = event id, what
consumers de-duplicate by), and runs a requested allocation wave and announces its results."""

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
import requests

from applicant import app as applicant_app
from applicant import store
from applicant.settings import Settings
from edu_common import accounts, outbox
from edu_common.testing import Clock, TokenMinter

from .conftest import AFTER_CLOSE, NOW, PDF, World, made_up_people, seed

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def _params(amqp_url: str) -> pika.URLParameters:
    sep = "&" if "?" in amqp_url else "?"
    return pika.URLParameters(
        f"{amqp_url}{sep}connection_attempts=3&retry_delay=1&socket_timeout=20&stack_timeout=30"
    )


def _publish(amqp_url: str, event_type, data: dict) -> None:
    envelope = event_type.make(data).to_dict()
    connection = pika.BlockingConnection(_params(amqp_url))
    try:
        channel = connection.channel()
        channel.exchange_declare(event_type.exchange, "topic", durable=True)
        channel.confirm_delivery()
        channel.basic_publish(
            event_type.exchange,
            event_type.routing_key,
            json.dumps(envelope, default=str).encode(),
            pika.BasicProperties(
                content_type="application/json", message_id=envelope["id"],
                type=event_type.routing_key, delivery_mode=2,
            ),
        )  # fmt: skip
    finally:
        connection.close()


@pytest.fixture
def listener(amqp_url):
    """A queue bound to everything applicant publishes, as the statistics agency would bind."""
    connection = pika.BlockingConnection(_params(amqp_url))
    channel = connection.channel()
    channel.exchange_declare("applicant.events", "topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, "applicant.events", "applicant.#")
    got: list[tuple[dict, str]] = []

    def received() -> list[tuple[dict, str]]:
        while True:
            method, props, body = channel.basic_get(queue, auto_ack=True)
            if method is None:
                break
            got.append((json.loads(body), props.message_id))
        return got

    yield received
    connection.close()


@pytest.fixture
def worker_process(mongo_url, amqp_url, tmp_path, unused_port, wait_until):
    database = f"apw_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "MONGO_URL": mongo_url,
        "MONGO_DATABASE": database,
        "AMQP_URL": amqp_url,
        "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
        "APPLICANT_ALLOCATION_POLL_SECONDS": "1",
        "WORKER_PORT": str(unused_port),
        "LOG_LEVEL": "WARNING",
    }
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "applicant.worker"], env=env, stdout=log, stderr=log, cwd=ROOT
    )

    def ready() -> bool:  # its queues are bound and consumed, not merely declared
        try:
            return requests.get(f"http://127.0.0.1:{unused_port}/readyz", timeout=2).ok
        except requests.RequestException:
            return False

    wait_until(ready, timeout=90, interval=0.2, message="the worker ready")
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


def test_submission_reaches_the_broker_once_and_a_wave_is_run_and_announced(
    worker_process, mongo_client, mongo_url, amqp_url, listener, wait_until
):
    database = worker_process
    db = mongo_client[database]
    try:
        wait_until(lambda: _queue_exists(amqp_url, "applicant.accounts"), timeout=60,
                   message="the worker's accounts queue")  # fmt: skip
        registry = made_up_people()
        person = registry.add(dt.date(2010, 3, 15))
        _publish(
            amqp_url,
            accounts.ACCOUNT_CHANGED,
            {"account_id": "acc-timur", "revision": 1, "iin": person.iin,
             "full_name": "Ахметов Тимур", "birth_date": "2010-03-15", "roles": ["citizen"],
             "organization_id": None, "phone": "+77010000003", "email": None,
             "language": "kk", "active": True, "notifications_consent": True,
             "verified": True},
        )  # fmt: skip
        wait_until(lambda: accounts.get(db, "acc-timur") is not None, timeout=60,
                   message="the accounts copy from identity's event")  # fmt: skip

        settings = Settings(mongo_url=mongo_url, database=database, amqp_url=amqp_url)
        minter = TokenMinter()
        clock = Clock(NOW)
        app = applicant_app.create_app(settings, verifier=minter.verifier, clock=clock,
                                       registry=registry)  # fmt: skip
        world = World(app.test_client(), app.extensions["applicant"], minter, registry, clock)
        seed(db)
        world.campaign()
        world.offer("law", "col-1", "0201000", seats=1)

        class Timur:
            account = "acc-timur"
            h = minter.headers("acc-timur")

        created = world.apply(Timur, ["law"], 4.7)
        world.upload_all(Timur, created["id"])
        world.upload(Timur, created["id"], "photo", PDF)  # a replaced document is fine
        world.submit(Timur, created["id"])

        def types():
            return [m["type"] for m, _ in listener()]

        wait_until(lambda: "applicant.application.submitted" in types(), timeout=30,
                   message="the relay publishes the submission")  # fmt: skip
        world.review(created["id"])
        wait_until(lambda: "applicant.application.accepted" in types(), timeout=30,
                   message="the acceptance, published after the submission")  # fmt: skip
        assert types().count("applicant.application.submitted") == 1
        submitted, message_id = next(x for x in listener() if x[0]["type"].endswith("submitted"))
        assert message_id == submitted["id"]  # consumers de-duplicate by it
        assert submitted["data"]["applicant_iin_masked"] == "********" + person.iin[-4:]
        assert person.iin not in json.dumps(submitted)
        wait_until(lambda: db[outbox.COLLECTION].count_documents({"sent_at": None}) == 0,
                   timeout=30, message="every event marked sent")  # fmt: skip

        clock.now = AFTER_CLOSE
        resp = world.client.post(
            "/campaigns/kostanay-2026/allocations",
            json={"base_education": "after_9"},
            headers=world.admin(),
        )
        assert resp.status_code == 202
        wait_until(lambda: "applicant.application.allocated" in types(), timeout=60,
                   message="the worker runs the wave and announces it")  # fmt: skip
        run = db[store.RUNS].find_one({"_id": resp.json["id"]})
        assert run["status"] == "done" and run["counts"]["allocated"] == 1
        assert world.get(Timur, created["id"])["status"] == "allocated"
    finally:
        mongo_client.drop_database(database)
