"""Secrets are not kept: an event's secret fields (a one-time code) leave the outbox as soon as
the broker has confirmed it, and a parked copy expires from the dead-letter queue."""

from __future__ import annotations

import threading

import pika
import pytest
from marshmallow import Schema, fields

from edu_common import consumer, mongo, outbox
from edu_common.contracts.identity import ACCOUNT_CHANGED, CODE_REQUESTED
from edu_common.envelope import EventType
from edu_common.relay import Relay, make_publisher
from edu_common.settings import BusSettings


class SecretSchema(Schema):
    to = fields.String(required=True)
    code = fields.String(required=True)
    hint = fields.String(metadata={"secret": True})


class PlainSchema(Schema):
    region_code = fields.String()  # "code" inside a longer name is not a secret by name
    n = fields.Integer()


SECRET = EventType("testsvc", "code.sent", 1, SecretSchema, "Carries a code.")
PLAIN = EventType("testsvc", "thing.happened", 1, PlainSchema, "Carries nothing secret.")


def test_secret_fields_come_from_the_contract():
    assert CODE_REQUESTED.secret_fields == ("code",)
    assert ACCOUNT_CHANGED.secret_fields == ()
    assert SECRET.secret_fields == ("code", "hint")
    assert PLAIN.secret_fields == ()
    named = EventType("testsvc", "x.y", 1, PlainSchema, "Named.", secret_fields=["n"])
    assert named.secret_fields == ("n",)


class FakePublisher:
    """Confirms only the ids it is told to, as a broker confirming part of a batch."""

    def __init__(self):
        self.confirm: set[str] | None = None
        self.bodies: list[dict] = []

    def publish_batch(self, docs, timeout=30.0):
        self.bodies += [d["body"] for d in docs]
        ids = {d["_id"] for d in docs}
        return ids if self.confirm is None else ids & self.confirm


def emit(db, event, data):
    return mongo.in_transaction(db, lambda s: outbox.emit(db, s, event, data))


def test_the_relay_removes_secrets_once_the_broker_confirms(mongo_db):
    mongo.ensure_indexes(mongo_db, outbox.INDEXES)
    publisher = FakePublisher()
    relay = Relay(mongo_db, publisher)
    first = emit(mongo_db, SECRET, {"to": "a@example.kz", "code": "483920", "hint": "h-1"})
    second = emit(mongo_db, SECRET, {"to": "b@example.kz", "code": "119384"})
    plain = emit(mongo_db, PLAIN, {"region_code": "KZ-ALA", "n": 1})
    publisher.confirm = {first.id, plain.id}  # the second is not confirmed yet
    assert relay.run_once() == 2
    # What was published had the code: only the stored copy loses it.
    assert {b["data"].get("code") for b in publisher.bodies} == {"483920", "119384", None}
    sent = mongo_db.outbox.find_one({"_id": first.id})
    assert sent["sent_at"] is not None and sent["secrets_removed_at"] is not None
    assert sent["body"]["data"] == {"to": "a@example.kz"}
    # Not confirmed: it will be sent again, so it keeps what it must deliver.
    pending = mongo_db.outbox.find_one({"_id": second.id})
    assert pending["sent_at"] is None and pending["body"]["data"]["code"] == "119384"
    # An event without secrets is kept whole.
    kept = mongo_db.outbox.find_one({"_id": plain.id})
    assert kept["body"]["data"] == {"region_code": "KZ-ALA", "n": 1}
    assert "secret_fields" not in kept
    publisher.confirm = None
    assert relay.run_once() == 1
    assert "483920" not in str(list(mongo_db.outbox.find()))
    assert "119384" not in str(list(mongo_db.outbox.find()))


def test_bindings_know_when_their_events_carry_secrets():
    noop = lambda envelope, ctx: None  # noqa: E731
    secret = consumer.Binding.on("codes", [CODE_REQUESTED], noop)
    plain = consumer.Binding.on("accounts", [ACCOUNT_CHANGED], noop)
    assert secret.carries_secrets and not plain.carries_secrets
    worker = consumer.Worker.__new__(consumer.Worker)  # the rule alone, no connection
    worker.secret_dead_letter_ttl_seconds = 3600
    assert worker.dead_letter_ttl(secret) == 3600
    assert worker.dead_letter_ttl(plain) is None  # parked until someone replays it
    # A binding's own longer TTL never outlives the shared limit for secrets; a shorter one stays.
    day = consumer.Binding.on("codes", [CODE_REQUESTED], noop, dead_letter_ttl_seconds=86400)
    assert worker.dead_letter_ttl(day) == 3600
    minute = consumer.Binding.on("codes", [CODE_REQUESTED], noop, dead_letter_ttl_seconds=60)
    assert worker.dead_letter_ttl(minute) == 60


def test_the_shared_limit_is_a_setting_of_one_hour():
    assert BusSettings.from_env(environ={}).secret_dead_letter_ttl_seconds == 3600
    env = {"SECRET_DEAD_LETTER_TTL_SECONDS": "600"}
    assert BusSettings.from_env(environ=env).secret_dead_letter_ttl_seconds == 600


def _dead_letter(url: str, queue: str):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ch = conn.channel()
        method, props, body = ch.basic_get(queue, auto_ack=False)
        depth = ch.queue_declare(queue, passive=True).method.message_count
        return (props, body, depth) if method else None
    finally:
        conn.close()


def _depth(url: str, queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        conn.close()


@pytest.mark.integration
def test_a_parked_secret_expires_from_the_dead_letter_queue(mongo_db, amqp_url, wait_until):
    mongo.ensure_indexes(mongo_db, [*outbox.INDEXES, *consumer.INDEXES])

    def refuse(envelope, ctx):
        raise consumer.Reject("cannot deliver")

    # As sms-notify's binding: its queue keeps dead letters a day, the secret limit is shorter.
    sub = consumer.Binding.on("codes", [SECRET], refuse, dead_letter_ttl_seconds=86400)
    plain = consumer.Binding.on("things", [PLAIN], refuse)
    stop = threading.Event()
    publisher = make_publisher(amqp_url, [SECRET.exchange])
    relay = Relay(mongo_db, publisher, idle_wait=0.05)
    worker = consumer.Worker(
        "consumersvc", mongo_db, amqp_url, [sub, plain], secret_dead_letter_ttl_seconds=2
    )
    threads = [
        threading.Thread(target=relay.run, args=(stop,), daemon=True),
        threading.Thread(target=worker.run, daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        assert worker.ready.wait(20), "consumer did not start"
        emit(mongo_db, SECRET, {"to": "a@example.kz", "code": "771204"})
        emit(mongo_db, PLAIN, {"n": 1})
        parked = wait_until(
            lambda: _dead_letter(amqp_url, "consumersvc.codes.dead"), message="parked code"
        )
        props, body, _depth_then = parked
        assert props.expiration == "2000"  # per message: the queue's own TTL is left as it was
        assert b"771204" in body  # parked as it came, until it expires
        wait_until(lambda: _depth(amqp_url, "consumersvc.things.dead") == 1, message="parked")
        # The code is gone from the dead-letter queue by itself; the other dead letter stays.
        wait_until(
            lambda: _depth(amqp_url, "consumersvc.codes.dead") == 0,
            timeout=30,
            message="the parked code expired",
        )
        assert _depth(amqp_url, "consumersvc.things.dead") == 1
        # And the outbox kept no code once the broker had it.
        assert "771204" not in str(list(mongo_db.outbox.find()))
    finally:
        stop.set()
        worker.should_stop = True
        for t in threads:
            t.join(timeout=10)
        publisher.stop()
