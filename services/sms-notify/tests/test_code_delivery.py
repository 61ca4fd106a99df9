"""identity's code events, end to end: RabbitMQ -> the worker -> SMTP / SMSC (the dev inbox)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from pathlib import Path

import pytest

from edu_common import consumer, mongo
from edu_common.testing import envelope, publish
from sms_notify import events, store
from sms_notify.adapters.smsc import SmscChannel
from sms_notify.app import build_channels
from sms_notify.settings import Settings
from sms_notify.usecases import delivery
from sms_notify.worker import notification_bindings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(inbox, mongo_url, amqp_url) -> Settings:
    return Settings(
        mongo_url=mongo_url,
        database="unused",
        amqp_url=amqp_url,
        smtp_host="127.0.0.1",
        smtp_port=inbox.smtp_port,
        smtp_user="sms-notify",
        smtp_password="any",  # the inbox accepts any login
        smtp_tls=False,
        mail_from="no-reply@edu.example.kz",
        smsc_url=inbox.smsc_url,
        smsc_login="dev",
        smsc_password="dev",
    )


@pytest.fixture
def run_worker(settings, mongo_db, amqp_url, wait_until, make_deps):
    mongo.ensure_indexes(mongo_db, [*store.INDEXES, *consumer.INDEXES])
    started: list[tuple[consumer.Worker, threading.Thread]] = []

    def start(channels) -> consumer.Worker:
        deps = make_deps(mongo_db, settings=settings, channels=channels)
        worker = consumer.Worker("sms-notify", mongo_db, amqp_url, notification_bindings(deps))
        thread = threading.Thread(target=worker.run, name="sms-notify-worker", daemon=True)
        thread.start()
        started.append((worker, thread))
        wait_until(worker.ready.is_set, timeout=20, message="consumer ready")
        return worker

    yield start
    for worker, thread in started:
        worker.should_stop = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the worker thread did not stop"


def code_event(**data) -> dict:
    now = dt.datetime.now(dt.UTC)
    return envelope(
        events.CODE_REQUESTED,
        {
            "challenge_id": uuid.uuid4().hex,
            "purpose": "email_confirmation",
            "channel": "email",
            "to": "parent@example.kz",
            "code": "482913",
            "language": "ru",
            "expires_at": (now + dt.timedelta(minutes=10)).isoformat(),
            "account_id": None,
            **data,
        },
        occurred_at=now.isoformat(),
        correlation_id=uuid.uuid4().hex,
    )


def stored(db, event: dict) -> dict | None:
    return db[store.MESSAGES].find_one({"event_id": event["id"]})


def assert_code_forgotten(db, event: dict) -> None:
    message = stored(db, event)
    assert message["status"] == store.SENT
    assert "secret" not in message
    assert event["data"]["code"] not in json.dumps(message, default=str, ensure_ascii=False)
    assert store.CODE_MASK in message["body"]


def test_an_email_code_arrives_in_russian(
    settings, inbox, run_worker, mongo_db, amqp_url, wait_until
):
    run_worker(build_channels(settings))
    event = code_event(to="mother@example.kz")
    publish(amqp_url, events.CODE_REQUESTED, event)

    [mail] = wait_until(lambda: inbox.messages("mother@example.kz"), message="the e-mail")
    assert mail["channel"] == "email"
    assert mail["subject"] == "Подтверждение адреса электронной почты"
    assert "Ваш код подтверждения: 482913" in mail["body"]
    assert "Код действует 10 мин. Никому не сообщайте его" in mail["body"]
    wait_until(lambda: (stored(mongo_db, event) or {}).get("status") == store.SENT, message="sent")
    assert_code_forgotten(mongo_db, event)
    assert stored(mongo_db, event)["provider"] == "smtp"


def test_an_sms_code_arrives_in_kazakh(settings, inbox, run_worker, mongo_db, amqp_url, wait_until):
    run_worker(build_channels(settings))
    event = code_event(purpose="login", channel="sms", to="+77011234567", language="kk")
    publish(amqp_url, events.CODE_REQUESTED, event)

    [sms] = wait_until(lambda: inbox.messages("+77011234567"), message="the SMS")
    assert sms["channel"] == "sms"
    assert sms["body"] == "Кіру коды: 482913. Оны ешкімге айтпаңыз."
    wait_until(lambda: (stored(mongo_db, event) or {}).get("status") == store.SENT, message="sent")
    assert_code_forgotten(mongo_db, event)
    assert stored(mongo_db, event)["provider"] == "smsc"


def test_an_event_delivered_twice_sends_one_message(
    settings, inbox, run_worker, mongo_db, amqp_url, wait_until
):
    # E-mail, because the inbox itself folds a repeated SMS id: only SMTP would show a double.
    run_worker(build_channels(settings))
    first = code_event(to="twice@example.kz")
    marker = code_event(to="marker@example.kz")
    publish(amqp_url, events.CODE_REQUESTED, first, first, marker)

    wait_until(lambda: inbox.messages("marker@example.kz"), message="the marker e-mail")
    assert len(inbox.messages("twice@example.kz")) == 1
    assert mongo_db[store.MESSAGES].count_documents({"event_id": first["id"]}) == 1


def test_a_provider_outage_leaves_the_message_queued_until_the_sweep(
    settings,
    inbox,
    run_worker,
    mongo_db,
    amqp_url,
    wait_until,
    unused_port,
):
    channels = build_channels(settings)
    channels["sms"] = SmscChannel(f"http://127.0.0.1:{unused_port}", "dev", "dev")  # nobody there
    run_worker(channels)
    event = code_event(purpose="password_reset", channel="sms", to="+77017654321")
    publish(amqp_url, events.CODE_REQUESTED, event)

    def first_attempt_failed():
        message = stored(mongo_db, event)
        return message if message and message["attempts"] == 1 and message["last_error"] else None

    message = wait_until(first_attempt_failed, message="the failed first attempt")
    assert message["status"] == store.QUEUED
    assert message["secret"] == {"code": "482913"}  # still needed to send it later
    assert "SMSC unreachable" in message["last_error"]
    assert inbox.messages("+77017654321") == []

    channels["sms"] = SmscChannel(inbox.smsc_url, "dev", "dev")  # the gateway is back
    due = message["next_attempt_at"]
    assert delivery.sweep(mongo_db, channels, clock=lambda: due) == 1

    [sms] = inbox.messages("+77017654321")
    assert sms["body"] == "Код для восстановления пароля: 482913. Никому не сообщайте его."
    assert_code_forgotten(mongo_db, event)
    assert stored(mongo_db, event)["attempts"] == 2
    assert delivery.sweep(mongo_db, channels, clock=lambda: due) == 0
