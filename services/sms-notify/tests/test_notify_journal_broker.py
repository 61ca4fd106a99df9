"""The journal's events end to end: RabbitMQ -> the worker -> a paid SMS in the dev inbox.

Also identity's account copy arriving over the broker, and a redelivered event sending nothing
twice.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import POPULATION, STUDENT_IIN

from edu_common import accounts, consumer, mongo
from edu_common.registry import JsonFileRegistry
from edu_common.testing import Clock
from sms_notify import journal, store
from sms_notify.app import build_deps, indexes
from sms_notify.settings import Settings
from sms_notify.tools import journal as tool
from sms_notify.usecases import balance, delivery, subscriptions
from sms_notify.worker import journal_bindings

pytestmark = pytest.mark.integration

PHONE = "+77010000777"
NOON = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # Monday 12:00 in Almaty: no quiet hours


@pytest.fixture
def deps(inbox, mongo_url, mongo_db, amqp_url):
    settings = Settings(
        mongo_url=mongo_url,
        database=mongo_db.name,
        amqp_url=amqp_url,
        smtp_port=inbox.smtp_port,
        smsc_url=inbox.smsc_url,
        mobizon_url=inbox.url,
        payment_provider_url=inbox.url,
        price_per_segment=10,
    )
    mongo.ensure_indexes(mongo_db, indexes())
    return build_deps(
        settings, db=mongo_db, clock=Clock(NOON), registry=JsonFileRegistry(POPULATION)
    )


@pytest.fixture
def worker(deps, amqp_url, wait_until):
    bindings = [accounts.binding(), *journal_bindings(deps)]
    w = consumer.Worker("sms-notify", deps.db, amqp_url, bindings)
    thread = threading.Thread(target=w.run, name="sms-notify-journal-worker", daemon=True)
    thread.start()
    wait_until(w.ready.is_set, timeout=30, message="consumer ready")
    yield w
    w.should_stop = True
    thread.join(timeout=15)
    assert not thread.is_alive(), "the worker thread did not stop"


def test_homework_event_reaches_the_phone_once_and_is_paid(
    deps, worker, amqp_url, inbox, wait_until
):
    db = deps.db
    # identity's account copy comes over the broker.
    tool.publish(
        amqp_url,
        accounts.ACCOUNT_CHANGED,
        {
            "account_id": "acc-mother",
            "revision": 1,
            "iin": "890615480160",
            "full_name": "Айгерим Кенжебаева",
            "roles": ["citizen"],
            "phone": PHONE,
            "email": "mother@example.kz",
            "language": "ru",
            "verified": True,
        },
    )
    wait_until(lambda: accounts.get(db, "acc-mother"), timeout=30, message="account copy")
    sub = subscriptions.create(deps, "acc-mother", STUDENT_IIN, PHONE, ["homework"])
    assert sub["phone"] == PHONE
    started, _ = balance.top_up(deps, "acc-mother", 200, "top-up-key-1")
    # The dev inbox's payment provider took the payment; its callback says paid.
    asked = requests.get(f"{inbox.url}/payments", timeout=5).json()
    [payment] = [p for p in asked if p["reference"] == started["id"]]
    paid = {"payment_id": payment["payment_id"], "reference": started["id"], "status": "paid"}
    balance.on_callback(deps, {**paid, "amount": 200, "currency": "KZT"})
    assert balance.current(db, "acc-mother") == 200

    # The dev tool, as a developer runs it; then the same envelope once more (a redelivery).
    assert (
        tool.main(
            [
                "--amqp-url",
                amqp_url,
                "homework",
                "--iin",
                STUDENT_IIN,
                "--name",
                "Кенжебаев Дәулет",
                "--subject",
                "Математика",
                "--text",
                "§12, задачи 1-5",
                "--due",
                "2026-03-05",
            ]
        )
        == 0
    )
    stored = wait_until(
        lambda: list(db[store.MESSAGES].find({"to": PHONE, "kind": "homework"})),
        timeout=30,
        message="homework message stored",
    )
    env = journal.HOMEWORK_ASSIGNED.make(
        {
            "homework_id": "hw-dup",
            "student_iin": STUDENT_IIN,
            "subject": "Физика",
            "text": "§3",
            "assigned_at": NOON,
        }
    )
    tool.publish_envelope(amqp_url, journal.HOMEWORK_ASSIGNED, env)
    tool.publish_envelope(amqp_url, journal.HOMEWORK_ASSIGNED, env)
    # One queue, one consumer, in order: once a later event is stored, both copies were seen.
    marker = tool.publish(
        amqp_url,
        journal.HOMEWORK_ASSIGNED,
        {
            "homework_id": "hw-marker",
            "student_iin": STUDENT_IIN,
            "subject": "Химия",
            "text": "§1",
            "assigned_at": NOON,
        },
    )
    wait_until(
        lambda: db[store.MESSAGES].count_documents({"event_id": marker.id}),
        timeout=30,
        message="the marker event stored",
    )
    assert db[store.MESSAGES].count_documents({"event_id": env.id}) == 1

    # Delivery is the core's: its sweep sends through SMSC to the dev inbox.
    def delivered():
        delivery.sweep(db, deps.channels, policy=deps.policy, clock=deps.clock)
        return len(inbox.messages(PHONE)) >= 3

    wait_until(delivered, timeout=30, message="SMS in the dev inbox")
    texts = [m.get("text") or m.get("body") or str(m) for m in inbox.messages(PHONE)]
    assert any("Математика" in t and "Дәулет" in t for t in texts), texts
    assert len(stored) == 1
    assert len(inbox.messages(PHONE)) == 3
    assert db[store.MESSAGES].count_documents({"to": PHONE, "kind": "homework"}) == 3
    charged = sum(m["charged_segments"] for m in db[store.MESSAGES].find({"kind": "homework"}))
    assert balance.current(db, "acc-mother") == 200 - 10 * charged
