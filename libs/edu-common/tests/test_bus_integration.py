"""The outbox, relay and idempotent consumer against the real RabbitMQ and the embedded Mongo."""

from __future__ import annotations

import json
import threading
import uuid

import pika
import pytest
from marshmallow import Schema, fields

from edu_common import consumer, mongo, outbox
from edu_common.envelope import EventType
from edu_common.relay import Relay, make_publisher

pytestmark = pytest.mark.integration


class ThingSchema(Schema):
    n = fields.Integer(required=True)


THING = EventType("testsvc", "thing.happened", 1, ThingSchema, "A thing happened.")


def record(db, n: int) -> None:
    def work(session):
        db.things.insert_one({"n": n}, session=session)
        outbox.emit(db, session, THING, {"n": n})

    mongo.in_transaction(db, work)


class Running:
    """A relay and a consumer on threads, stopped at the end of the test."""

    def __init__(self, db, url, subs, relay_url=None):
        self.stop = threading.Event()
        self.publisher = make_publisher(relay_url or url, [THING.exchange])
        self.relay = Relay(db, self.publisher, idle_wait=0.05)
        self.worker = consumer.Worker("consumersvc", db, url, subs) if subs else None
        self.threads = [threading.Thread(target=self.relay.run, args=(self.stop,), daemon=True)]
        if self.worker:
            self.threads.append(threading.Thread(target=self.worker.run, daemon=True))
        for t in self.threads:
            t.start()
        # Queues exist a moment before their bindings: publish only once the consumer is ready.
        if self.worker:
            assert self.worker.ready.wait(20), "consumer did not start"

    def close(self):
        self.stop.set()
        if self.worker:
            self.worker.should_stop = True
        for t in self.threads:
            t.join(timeout=10)
        self.publisher.stop()


@pytest.fixture
def running():
    started = []

    def start(*args, **kwargs):
        r = Running(*args, **kwargs)
        started.append(r)
        return r

    yield start
    for r in started:
        r.close()


def effect_handler(envelope, ctx):
    ctx.db.effects.insert_one({"event": envelope.id, "n": envelope.data["n"]}, session=ctx.session)


def setup_db(db):
    mongo.ensure_indexes(db, [*outbox.INDEXES, *consumer.INDEXES])


def publish_raw(url, body: bytes, routing_key=THING.routing_key, exchange=THING.exchange):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    ch = conn.channel()
    ch.exchange_declare(exchange, "topic", durable=True)
    ch.confirm_delivery()
    ch.basic_publish(exchange, routing_key, body, pika.BasicProperties(delivery_mode=2))
    conn.close()


def queue_depth(url, queue) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return -1
    finally:
        if conn.is_open:
            conn.close()


def test_events_flow_from_outbox_to_consumer(mongo_db, amqp_url, running, wait_until):
    setup_db(mongo_db)
    sub = consumer.Binding.on("effects", [THING], effect_handler)
    running(mongo_db, amqp_url, [sub])
    for n in range(5):
        record(mongo_db, n)
    wait_until(lambda: mongo_db.effects.count_documents({}) == 5, message="5 effects")
    assert sorted(d["n"] for d in mongo_db.effects.find()) == [0, 1, 2, 3, 4]
    wait_until(lambda: outbox.pending_count(mongo_db) == 0, message="outbox drained")


def test_redelivered_event_has_no_second_effect(mongo_db, amqp_url, running, wait_until):
    setup_db(mongo_db)
    sub = consumer.Binding.on("effects", [THING], effect_handler)
    running(mongo_db, amqp_url, [sub])
    first = THING.make({"n": 1}).to_dict()
    marker = THING.make({"n": 2}).to_dict()
    for body in (first, first, marker):
        publish_raw(amqp_url, json.dumps(body).encode())
    wait_until(lambda: mongo_db.effects.find_one({"event": marker["id"]}), message="marker")
    assert mongo_db.effects.count_documents({"event": first["id"]}) == 1


def test_event_written_while_broker_down_is_delivered_later(
    mongo_db, amqp_url, running, tcp_proxy, wait_until
):
    setup_db(mongo_db)
    sub = consumer.Binding.on("effects", [THING], effect_handler)
    proxy = tcp_proxy()
    proxy.stop()  # the relay's broker is unreachable from the start
    relay_url = amqp_url.replace(":5672/", f":{proxy.port}/")
    running(mongo_db, amqp_url, [sub], relay_url=relay_url)
    record(mongo_db, 7)  # the write itself succeeds with the broker away
    assert outbox.pending_count(mongo_db) == 1
    proxy.start()
    wait_until(lambda: mongo_db.effects.find_one({"n": 7}), timeout=30, message="delivery")
    wait_until(lambda: outbox.pending_count(mongo_db) == 0, message="marked sent")


def test_failing_handler_is_retried_then_dead_lettered(mongo_db, amqp_url, running, wait_until):
    setup_db(mongo_db)
    calls = []

    def flaky(envelope, ctx):
        calls.append(envelope.data["n"])
        if envelope.data["n"] == 1 and calls.count(1) < 2:
            raise RuntimeError("transient")
        if envelope.data["n"] == 2:
            raise RuntimeError("permanent")
        effect_handler(envelope, ctx)

    sub = consumer.Binding.on("effects", [THING], flaky, max_attempts=3, retry_base_seconds=0.05)
    running(mongo_db, amqp_url, [sub])
    record(mongo_db, 1)
    record(mongo_db, 2)
    wait_until(lambda: mongo_db.effects.find_one({"n": 1}), message="retried success")
    wait_until(lambda: queue_depth(amqp_url, "consumersvc.effects.dead") == 1, message="dead")
    assert calls.count(2) == 3  # bounded: never requeued forever
    assert mongo_db.effects.count_documents({"n": 1}) == 1
    assert mongo_db.effects.count_documents({"n": 2}) == 0


def test_unreadable_message_is_parked_not_looped(mongo_db, amqp_url, running, wait_until):
    setup_db(mongo_db)
    sub = consumer.Binding.on("effects", [THING], effect_handler)
    running(mongo_db, amqp_url, [sub])
    publish_raw(amqp_url, b'{"id": "not-a-uuid"}')
    wait_until(lambda: queue_depth(amqp_url, "consumersvc.effects.dead") == 1, message="parked")
    assert mongo_db.effects.count_documents({}) == 0


def test_only_one_relay_holds_the_lease(mongo_db):
    from edu_common.relay import Lease

    a, b = Lease(mongo_db, "outbox-relay"), Lease(mongo_db, "outbox-relay")
    assert a.acquire()
    assert not b.acquire()
    assert a.acquire()  # renewal by the holder
    a.release()
    assert b.acquire()


def test_envelope_carries_the_documented_fields():
    env = THING.make({"n": 3})
    raw = env.to_dict()
    assert set(raw) == {
        "id",
        "type",
        "version",
        "occurred_at",
        "source",
        "correlation_id",
        "causation_id",
        "data",
    }
    assert raw["type"] == "testsvc.thing.happened" and env.routing_key.endswith(".v1")
    uuid.UUID(raw["id"])


def test_dead_letters_can_be_listed_and_replayed(mongo_db, amqp_url, running, wait_until):
    from edu_common import deadletters

    setup_db(mongo_db)
    healed = threading.Event()

    def broken_until_healed(envelope, ctx):
        if not healed.is_set():
            raise RuntimeError("downstream is down")
        effect_handler(envelope, ctx)

    sub = consumer.Binding.on(
        "effects", [THING], broken_until_healed, max_attempts=2, retry_base_seconds=0.05
    )
    running(mongo_db, amqp_url, [sub])
    record(mongo_db, 5)
    wait_until(lambda: queue_depth(amqp_url, "consumersvc.effects.dead") == 1, message="dead")
    [row] = deadletters.peek(amqp_url, "consumersvc.effects")
    assert "downstream is down" in row["error"] and row["attempts"] == 2
    assert queue_depth(amqp_url, "consumersvc.effects.dead") == 1  # peeking leaves it there
    healed.set()
    assert deadletters.replay(amqp_url, "consumersvc.effects") == 1
    wait_until(lambda: mongo_db.effects.find_one({"n": 5}), message="replayed effect")
    assert queue_depth(amqp_url, "consumersvc.effects.dead") == 0


def test_consumer_resumes_by_itself_after_losing_the_broker(
    mongo_db, amqp_url, tcp_proxy, wait_until
):
    setup_db(mongo_db)
    proxy = tcp_proxy()
    via_proxy = amqp_url.replace(":5672/", f":{proxy.port}/")
    sub = consumer.Binding.on("effects", [THING], effect_handler)
    worker = consumer.Worker("consumersvc", mongo_db, via_proxy, [sub])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert worker.ready.wait(20)
        publish_raw(amqp_url, json.dumps(THING.make({"n": 1}).to_dict()).encode())
        wait_until(lambda: mongo_db.effects.find_one({"n": 1}), message="first effect")
        worker.ready.clear()
        proxy.stop()  # the broker goes away under the consumer
        publish_raw(amqp_url, json.dumps(THING.make({"n": 2}).to_dict()).encode())
        proxy.start()
        wait_until(lambda: mongo_db.effects.find_one({"n": 2}), timeout=60, message="resumed")
        assert worker.ready.is_set()  # it reconnected and consumed again, nobody restarted it
    finally:
        worker.should_stop = True
        thread.join(timeout=10)
