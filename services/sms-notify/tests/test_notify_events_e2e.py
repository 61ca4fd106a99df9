"""Events to the dev inbox with the real RabbitMQ, the embedded database and the dev inbox:
the accounts copy over the broker, a kindergarten event to an SMS, provider fail-over, and a
redelivered event that still makes one message."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import requests

from edu_common import accounts, consumer, mongo
from edu_common.testing import envelope, publish
from sms_notify import events, store
from sms_notify.adapters.channels import Outgoing, TransientError
from sms_notify.adapters.mobizon import MobizonChannel
from sms_notify.adapters.smsc import SmscChannel
from sms_notify.app import build_channels
from sms_notify.settings import Settings
from sms_notify.usecases import delivery
from sms_notify.worker import notification_bindings

pytestmark = pytest.mark.integration

PARENT = "acc-e2e-parent"


@pytest.fixture
def settings(inbox, mongo_url, amqp_url) -> Settings:
    return Settings(
        mongo_url=mongo_url,
        database="unused",
        amqp_url=amqp_url,
        smtp_port=inbox.smtp_port,
        smsc_url=inbox.smsc_url,
        mobizon_url=inbox.url,
    )


@pytest.fixture
def clock(h):
    """Time that runs from a Monday noon, for the consumer and the sweep alike (leases and
    back-offs are compared across the two)."""
    started = time.monotonic()
    return lambda: h.NOON + dt.timedelta(seconds=time.monotonic() - started)


@pytest.fixture
def worker(settings, mongo_db, amqp_url, wait_until, make_deps, h, clock):
    """The consumer and the delivery sweep, as the worker process runs them, on a Monday noon
    (at night by the wall clock, quiet hours would hold every message till the morning)."""
    mongo.ensure_indexes(mongo_db, [*store.INDEXES, *accounts.INDEXES, *consumer.INDEXES])
    channels = build_channels(settings)
    deps = make_deps(mongo_db, settings=settings, channels=channels, clock=clock)
    w = consumer.Worker("sms-notify", mongo_db, amqp_url, notification_bindings(deps))
    stop = threading.Event()

    def sweep():
        while not stop.wait(0.2):
            delivery.sweep(mongo_db, channels, clock=clock)

    threads = [threading.Thread(target=w.run, daemon=True), threading.Thread(target=sweep)]
    for t in threads:
        t.start()
    wait_until(w.ready.is_set, timeout=20, message="consumer ready")
    yield w
    w.should_stop = True
    stop.set()
    for t in threads:
        t.join(timeout=15)
        assert not t.is_alive(), "a worker thread did not stop"


def account_changed(phone: str, language: str = "ru") -> dict:
    return envelope(
        accounts.ACCOUNT_CHANGED,
        {
            "account_id": PARENT, "revision": 1, "iin": "950423451048",
            "full_name": "Aigerim Sarsenova", "birth_date": "1995-04-23", "roles": ["citizen"],
            "organization_id": None, "phone": phone, "email": "e2e@example.kz",
            "language": language, "active": True, "notifications_consent": True,
        },
    )  # fmt: skip


def queue_moved(number: int) -> dict:
    return envelope(
        events.KG_QUEUE_CHANGED,
        {
            "application_id": "app-1", "parent_account_id": PARENT,
            "child_iin_masked": "********2034", "child_first_name": "Әлихан",
            "district_id": "d-1", "queue_number": number, "previous_queue_number": number + 5,
        },
    )  # fmt: skip


def sms_in(inbox, phone: str) -> list[dict]:
    answer = requests.get(
        f"{inbox.url}/messages", params={"to": phone, "with": "provider"}, timeout=5
    )
    answer.raise_for_status()
    return answer.json()


def fault(inbox, provider: str, mode: str, count: int) -> None:
    answer = requests.post(
        f"{inbox.url}/admin/faults",
        json={"provider": provider, "mode": mode, "count": count},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text


def synced(mongo_db, amqp_url, wait_until, phone: str) -> None:
    """The parent's account arrives as identity publishes it; no quiet hours for the test."""
    mongo_db[store.PREFERENCES].insert_one({"_id": PARENT, "quiet_hours": {"enabled": False}})
    publish(amqp_url, accounts.ACCOUNT_CHANGED, account_changed(phone))
    wait_until(lambda: accounts.get(mongo_db, PARENT), message="the account copy")


def test_a_queue_move_reaches_the_parent_once_however_often_it_is_delivered(
    worker, inbox, mongo_db, amqp_url, wait_until
):
    phone = "+77015550001"
    synced(mongo_db, amqp_url, wait_until, phone)
    moved = queue_moved(12)
    publish(amqp_url, events.KG_QUEUE_CHANGED, moved, moved)
    marker = queue_moved(11)
    publish(amqp_url, events.KG_QUEUE_CHANGED, marker)

    wait_until(lambda: len(sms_in(inbox, phone)) >= 2, message="both SMS")
    arrived = sms_in(inbox, phone)
    assert [m["body"] for m in arrived] == [
        "Әлихан (********2034): номер в очереди 17 → 12.",
        "Әлихан (********2034): номер в очереди 16 → 11.",
    ]
    assert {m["provider"] for m in arrived} == {"smsc"}
    assert mongo_db[store.MESSAGES].count_documents({"event_id": moved["id"]}) == 1
    doc = mongo_db[store.MESSAGES].find_one({"event_id": moved["id"]})
    assert (doc["status"], doc["provider"], doc["segments"]) == ("sent", "smsc", 1)


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_when_smsc_fails_mobizon_takes_the_sms(worker, inbox, mongo_db, amqp_url, wait_until, mode):
    phone = "+77015550002"
    synced(mongo_db, amqp_url, wait_until, phone)
    fault(inbox, "smsc", mode, 100)
    moved = queue_moved(3)
    publish(amqp_url, events.KG_QUEUE_CHANGED, moved)

    [sms] = wait_until(lambda: sms_in(inbox, phone), message="the SMS through Mobizon")
    assert sms["provider"] == "mobizon"
    assert sms["body"] == "Әлихан (********2034): номер в очереди 8 → 3."
    doc = wait_until(
        lambda: mongo_db[store.MESSAGES].find_one({"event_id": moved["id"], "status": "sent"}),
        message="recorded as sent",
    )
    assert doc["provider"] == "mobizon" and doc["attempts"] == 1


def test_both_providers_down_then_back_sends_once_through_the_sweep(
    worker, clock, inbox, mongo_db, amqp_url, wait_until
):
    phone = "+77015550003"
    synced(mongo_db, amqp_url, wait_until, phone)
    fault(inbox, "smsc", "500", 1)
    fault(inbox, "mobizon", "500", 1)
    moved = queue_moved(4)
    publish(amqp_url, events.KG_QUEUE_CHANGED, moved)

    def retried():
        doc = mongo_db[store.MESSAGES].find_one({"event_id": moved["id"]})
        return doc if doc and doc["status"] == "queued" and doc["attempts"] == 1 else None

    doc = wait_until(retried, message="the first attempt failing on both")
    assert "smsc: SMSC HTTP 500; mobizon: Mobizon HTTP 500" in doc["last_error"]
    # The back-off is 5 s: bring the retry forward instead of waiting for it.
    mongo_db[store.MESSAGES].update_one({"_id": doc["_id"]}, {"$set": {"next_attempt_at": clock()}})
    [sms] = wait_until(lambda: sms_in(inbox, phone), message="the SMS after the outage")
    assert sms["provider"] == "smsc"
    wait_until(
        lambda: mongo_db[store.MESSAGES].find_one({"_id": doc["_id"], "status": "sent"}),
        message="sent",
    )
    assert len(sms_in(inbox, phone)) == 1


def test_the_adapters_and_the_dev_inbox_agree_on_sending_and_statuses(inbox):
    sms = Outgoing(id="ab" * 16, channel="sms", to="+77015550009", body="Сәлем, әлем")
    mobizon = MobizonChannel(inbox.url, "dev")
    smsc = SmscChannel(inbox.smsc_url, "dev", "dev")
    mobizon_id, smsc_id = mobizon.send(sms), smsc.send(sms)
    assert [r.status for r in mobizon.status([mobizon_id])] == ["delivered"]
    assert [r.status for r in smsc.status([smsc_id], sms.to)] == ["delivered"]
    assert [m["provider"] for m in sms_in(inbox, sms.to)] == ["mobizon", "smsc"]
    assert {m["body"] for m in sms_in(inbox, sms.to)} == {"Сәлем, әлем"}
    fault(inbox, "mobizon", "garbage", 1)
    with pytest.raises(TransientError):
        mobizon.send(sms)
    mobizon.send(sms)  # the fault was for one call only


def submitted(account_id: str) -> dict:
    return envelope(
        events.AP_SUBMITTED,
        {
            "applicant_account_id": account_id, "applicant_iin_masked": "********4107",
            "application_id": "app-1", "campaign_id": "kostanay-2027", "region_id": "kostanay",
            "year": 2027, "base_education": "after_9",
            "choices": [{"offer_id": "o-1", "college_id": "c-1", "specialty_code": "0101000"}],
            "quota_claims": [], "certificate_average": 4.6,
            "submitted_at": "2027-07-01T08:00:00+00:00", "resubmission": False,
        },
    )  # fmt: skip


def test_an_application_submitted_reaches_the_applicant_once(
    worker, inbox, mongo_db, amqp_url, wait_until
):
    phone = "+77015550007"
    synced(mongo_db, amqp_url, wait_until, phone)  # the account PARENT is the applicant here
    event = submitted(PARENT)
    publish(amqp_url, events.AP_SUBMITTED, event, event)  # delivered twice at once
    [sms] = wait_until(lambda: sms_in(inbox, phone), message="the applicant's SMS")
    assert sms["body"] == "Заявление в колледж на рассмотрении. Статус — в личном кабинете."
    assert sms["provider"] == "smsc"

    publish(amqp_url, events.AP_SUBMITTED, event)  # the same envelope again, later
    marker = queue_moved(3)  # published after it: once it arrives, the repeat was handled
    publish(amqp_url, events.KG_QUEUE_CHANGED, marker)
    wait_until(lambda: len(sms_in(inbox, phone)) >= 2, message="the marker")
    bodies = [m["body"] for m in sms_in(inbox, phone)]
    assert bodies[1:] == ["Әлихан (********2034): номер в очереди 8 → 3."], bodies
    [doc] = mongo_db[store.MESSAGES].find({"event_id": event["id"]})
    assert (doc["kind"], doc["status"], doc["segments"]) == ("application", "sent", 1)
