"""Secrets are not kept (issue 10, §6): a one-time code goes through identity's real outbox and
relay to the real RabbitMQ and on to sms-notify; once the broker has it, identity's outbox no
longer holds it, and a code event parked in sms-notify's dead-letter queue expires there."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import uuid
from pathlib import Path

import pika
import pytest

from edu_common import consumer, mongo
from edu_common.relay import Relay, make_publisher
from identity import events as identity_events
from identity.app import create_app
from identity.domain.passwords import PasswordHasher
from identity.settings import Settings as IdentitySettings
from identity.tokens import generate_key_file
from sms_notify import store as notify_store
from sms_notify.app import build_deps
from sms_notify.settings import Settings as NotifySettings
from sms_notify.worker import notification_bindings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
CODE_QUEUE = "sms-notify.code-requested"


def _refuse(envelope, ctx):
    raise consumer.Reject("the provider refuses this recipient")


@pytest.fixture
def platform(mongo_client, mongo_url, amqp_url, inbox, tmp_path):
    """identity's web app and relay, and sms-notify's consumer with its real bindings; ``fail``
    makes the code binding's handler refuse every event (so it is parked), its settings kept."""
    started = []

    def start(*, fail: bool = False):
        generate_key_file(tmp_path / "keys")
        identity_db = f"identity_{uuid.uuid4().hex[:8]}"
        notify_db = f"sms_notify_{uuid.uuid4().hex[:8]}"
        app = create_app(
            IdentitySettings(
                mongo_url=mongo_url, database=identity_db, amqp_url=amqp_url,
                code_pepper=b"e2e-pepper-0123456789", signing_keys_dir=str(tmp_path / "keys"),
                refresh_token_ttl=dt.timedelta(days=1),
                registry_url=str(ROOT / "dev" / "population.json"),
            ),
            hasher=PasswordHasher(memory_cost=1024, time_cost=1),
        )  # fmt: skip
        notify_settings = NotifySettings(
            mongo_url=mongo_url, database=notify_db, amqp_url=amqp_url,
            smtp_host="127.0.0.1", smtp_port=inbox.smtp_port, smtp_user=None,
            smtp_password=None, smtp_tls=False, mail_from="no-reply@edu.example.kz",
            smsc_url=inbox.smsc_url, smsc_login="dev", smsc_password="dev",
        )  # fmt: skip
        ndb = mongo_client[notify_db]
        mongo.ensure_indexes(ndb, [*notify_store.INDEXES, *consumer.INDEXES])
        bindings = notification_bindings(build_deps(notify_settings, db=ndb))
        if fail:
            bindings = [
                dataclasses.replace(b, handler=_refuse) if b.name == "code-requested" else b
                for b in bindings
            ]
        stop = threading.Event()
        publisher = make_publisher(amqp_url, identity_events.EXCHANGES)
        relay = Relay(app.extensions["identity"].db, publisher, idle_wait=0.05)
        worker = consumer.Worker("sms-notify", ndb, amqp_url, bindings)
        threads = [
            threading.Thread(target=relay.run, args=(stop,), daemon=True),
            threading.Thread(target=worker.run, daemon=True),
        ]
        for t in threads:
            t.start()
        started.append((stop, worker, threads, publisher, identity_db, notify_db))
        assert worker.ready.wait(20), "sms-notify consumer did not start"
        return app.test_client(), app.extensions["identity"].db, ndb, bindings

    yield start
    for stop, worker, threads, publisher, identity_db, notify_db in started:
        stop.set()
        worker.should_stop = True
        for t in threads:
            t.join(timeout=10)
        publisher.stop()
        mongo_client.drop_database(identity_db)
        mongo_client.drop_database(notify_db)


def _code(message: dict) -> str:
    return re.search(r"\b\d{6}\b", message["body"]).group()


def _code_rows(identity_db) -> list[dict]:
    return list(identity_db.outbox.find({"routing_key": "identity.code.requested.v1"}))


def test_a_delivered_code_is_gone_from_identitys_outbox(platform, inbox, wait_until):
    client, identity_db, notify_db, _bindings = platform()
    r = client.post("/registrations", json={"email": "dana@example.kz", "language": "ru"})
    assert r.status_code == 201
    [mail] = wait_until(lambda: inbox.messages("dana@example.kz"), message="code e-mail")
    code = _code(mail)
    [row] = wait_until(
        lambda: [d for d in _code_rows(identity_db) if d.get("secrets_removed_at")],
        message="the code removed once the broker confirmed it",
    )
    assert row["sent_at"] is not None and "code" not in row["body"]["data"]
    assert row["body"]["data"]["to"] == "dana@example.kz"  # what it was about stays
    assert code not in str(list(identity_db.outbox.find()))
    assert code not in str(list(notify_db.messages.find()))
    # The person still confirms with what arrived: identity keeps its own hash, not the code.
    confirm = client.post(f"/registrations/{r.json['id']}/email/confirm", json={"code": code})
    assert confirm.status_code == 200


def _dead_letter(url: str):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        method, props, body = conn.channel().basic_get(f"{CODE_QUEUE}.dead", auto_ack=False)
        return (props, body) if method else None
    finally:
        conn.close()


def _dead_depth(url: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        return ch.queue_declare(f"{CODE_QUEUE}.dead", passive=True).method.message_count
    finally:
        conn.close()


def test_a_parked_code_expires_from_the_dead_letter_queue(
    platform, amqp_url, monkeypatch, wait_until
):
    # The shared setting, as a deployment sets it (default: an hour); short here to watch it.
    monkeypatch.setenv("SECRET_DEAD_LETTER_TTL_SECONDS", "3")
    client, identity_db, _notify_db, bindings = platform(fail=True)
    [code_binding] = [b for b in bindings if b.name == "code-requested"]
    assert code_binding.carries_secrets
    r = client.post("/registrations", json={"email": "erlan@example.kz", "language": "kk"})
    assert r.status_code == 201
    props, body = wait_until(lambda: _dead_letter(amqp_url), message="the parked code event")
    # Per message, at most the shared limit, whatever the queue itself keeps dead letters for.
    assert props.expiration == "3000"
    assert b'"code"' in body  # parked as it came, until it expires ...
    wait_until(lambda: _dead_depth(amqp_url) == 0, message="the parked code expired")
    # ... and identity's outbox let go of it as soon as the broker had it.
    [row] = _code_rows(identity_db)
    assert row["sent_at"] is not None and "code" not in row["body"]["data"]


def test_without_the_setting_a_parked_code_lives_an_hour_at_most(
    platform, amqp_url, monkeypatch, wait_until
):
    monkeypatch.delenv("SECRET_DEAD_LETTER_TTL_SECONDS", raising=False)
    client, _identity_db, _notify_db, _bindings = platform(fail=True)
    r = client.post("/registrations", json={"email": "aruzhan@example.kz"})
    assert r.status_code == 201
    props, _body = wait_until(lambda: _dead_letter(amqp_url), message="the parked code event")
    assert props.expiration == str(3600 * 1000)
