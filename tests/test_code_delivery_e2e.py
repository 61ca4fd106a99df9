"""Across services: identity asks for a code, its relay publishes, sms-notify delivers it to the
development inbox, and the person confirms with what arrived. Real RabbitMQ, real databases."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from pathlib import Path

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


@pytest.fixture
def platform(mongo_client, mongo_url, amqp_url, inbox, tmp_path):
    """identity's web app and relay, sms-notify's consumer, each with its own database."""
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
        smtp_host="127.0.0.1", smtp_port=inbox.smtp_port, smtp_user=None, smtp_password=None,
        smtp_tls=False, mail_from="no-reply@edu.example.kz", smsc_url=inbox.smsc_url,
        smsc_login="dev", smsc_password="dev",
    )  # fmt: skip
    ndb = mongo_client[notify_db]
    mongo.ensure_indexes(ndb, [*notify_store.INDEXES, *consumer.INDEXES])
    stop = threading.Event()
    publisher = make_publisher(amqp_url, identity_events.EXCHANGES)
    relay = Relay(app.extensions["identity"].db, publisher, idle_wait=0.05)
    worker = consumer.Worker(
        "sms-notify", ndb, amqp_url, notification_bindings(build_deps(notify_settings, db=ndb))
    )
    threads = [
        threading.Thread(target=relay.run, args=(stop,), daemon=True),
        threading.Thread(target=worker.run, daemon=True),
    ]
    for t in threads:
        t.start()
    assert worker.ready.wait(20), "sms-notify consumer did not start"
    yield app.test_client(), app.extensions["identity"].db, ndb
    stop.set()
    worker.should_stop = True
    for t in threads:
        t.join(timeout=10)
    publisher.stop()
    mongo_client.drop_database(identity_db)
    mongo_client.drop_database(notify_db)


def _code(message: dict) -> str:
    return re.search(r"\b\d{6}\b", message["body"]).group()


def test_registration_code_reaches_the_inbox_once_and_confirms(platform, inbox, wait_until):
    client, identity_db, notify_db = platform
    r = client.post("/registrations", json={"email": "dana@example.kz", "language": "ru"})
    assert r.status_code == 201
    [mail] = wait_until(lambda: inbox.messages("dana@example.kz"), message="code e-mail")
    assert mail["channel"] == "email" and "электронной почты" in mail["subject"]
    confirm = client.post(
        f"/registrations/{r.json['id']}/email/confirm", json={"code": _code(mail)}
    )
    assert confirm.status_code == 200 and confirm.json["next_step"] == "person"

    # The relay sends the same event again (as after a crash before marking it sent).
    identity_db.outbox.update_many({}, {"$set": {"sent_at": None}})
    wait_until(lambda: identity_db.outbox.count_documents({"sent_at": None}) == 0,
               message="re-sent")  # fmt: skip
    marker = client.post("/registrations", json={"email": "marker@example.kz"})
    assert marker.status_code == 201
    wait_until(lambda: inbox.messages("marker@example.kz"), message="marker e-mail")
    assert len(inbox.messages("dana@example.kz")) == 1
    stored = notify_db.messages.find_one({"to": "dana@example.kz"})
    assert stored["status"] == "sent" and _code(mail) not in str(stored)
