"""The outbox relay: publishes recorded events in batches and marks them sent (removing the
secret fields of events that carry one, such as a one-time code, in the same update).

Over AMQP it uses pika's asynchronous connection with publisher confirms pipelined: a whole
batch is on the wire before the first confirm is awaited. Nothing is marked sent before the
broker has confirmed it, so a crash or a broker outage means a later re-send, never a loss
(consumers are idempotent by message id).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterable

import pika
import pika.spec
from kombu import Producer
from prometheus_client import Counter, Gauge
from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from edu_common import bus, outbox

log = logging.getLogger(__name__)

PUBLISHED = Counter("outbox_events_published_total", "Events published by the relay", ["exchange"])
PENDING = Gauge("outbox_events_pending", "Events recorded but not yet confirmed by the broker")


class PublishUnavailable(RuntimeError):
    pass


def _properties(doc: dict) -> pika.BasicProperties:
    body = doc["body"]
    return pika.BasicProperties(
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=doc["_id"],
        type=doc["routing_key"],
        correlation_id=body.get("correlation_id"),
        app_id=body.get("source"),
        timestamp=int(time.time()),
        headers=doc.get("headers") or {},
    )


class AmqpBatchPublisher:
    """Owns one pika SelectConnection on its own thread; other threads hand it batches."""

    def __init__(self, url: str, exchanges: Iterable[str] = ()):
        self._params = pika.URLParameters(url)
        self._params.heartbeat = 30
        self._params.connection_attempts = 1
        self._exchanges = list(exchanges)
        self._ready = threading.Event()
        self._stopping = False
        self._conn: pika.SelectConnection | None = None
        self._chan = None
        self._tag = 0
        self._pending: dict[int, str] = {}
        self._acked: set[str] = set()
        self._batch_done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="relay-amqp", daemon=True)

    # --- the I/O thread -------------------------------------------------------------------
    def start(self) -> AmqpBatchPublisher:
        self._thread.start()
        return self

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            self._conn = pika.SelectConnection(
                self._params,
                on_open_callback=self._on_open,
                on_open_error_callback=self._on_open_error,
                on_close_callback=self._on_closed,
            )
            self._conn.ioloop.start()
            self._ready.clear()
            if not self._stopping:
                time.sleep(backoff)
                backoff = min(backoff * 2, 10)
            if self._chan is not None:
                backoff = 0.5

    def _on_open(self, conn) -> None:
        conn.channel(on_open_callback=self._on_channel)

    def _on_open_error(self, conn, err) -> None:
        log.warning("relay cannot reach the broker: %s", err)
        conn.ioloop.stop()

    def _on_closed(self, conn, reason) -> None:
        if not self._stopping:
            log.warning("relay connection closed: %s", reason)
        self._chan = None
        self._finish_batch()
        conn.ioloop.stop()

    def _on_channel(self, chan) -> None:
        self._chan = chan
        self._tag = 0
        chan.add_on_close_callback(self._on_channel_closed)
        chan.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_mode)

    def _on_channel_closed(self, chan, reason) -> None:
        if not self._stopping:
            log.warning("relay channel closed: %s", reason)
        if self._conn is not None and self._conn.is_open:
            self._conn.close()

    def _on_confirm_mode(self, _frame) -> None:
        self._declare(list(self._exchanges))

    def _declare(self, names: list[str]) -> None:
        if not names:
            self._ready.set()
            return
        self._chan.exchange_declare(
            exchange=names[0],
            exchange_type="topic",
            durable=True,
            callback=lambda _f: self._declare(names[1:]),
        )

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = (
            [t for t in self._pending if t <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        ok = isinstance(method, pika.spec.Basic.Ack)
        for tag in tags:
            msg_id = self._pending.pop(tag, None)
            if ok and msg_id is not None:
                self._acked.add(msg_id)
        if not self._pending:
            self._finish_batch()

    def _finish_batch(self) -> None:
        self._pending.clear()
        self._batch_done.set()

    def _publish_all(self, docs: list[dict]) -> None:
        if self._chan is None or not self._chan.is_open:
            self._finish_batch()
            return
        for doc in docs:
            body = json.dumps(doc["body"], ensure_ascii=False).encode()
            self._chan.basic_publish(doc["exchange"], doc["routing_key"], body, _properties(doc))
            self._tag += 1
            self._pending[self._tag] = doc["_id"]
        if not docs:
            self._finish_batch()

    # --- called from the relay thread -----------------------------------------------------
    def publish_batch(self, docs: list[dict], timeout: float = 30.0) -> set[str]:
        """Publish docs; answer the ids the broker confirmed (the rest stay pending)."""
        if not self._ready.wait(timeout=1.0) or self._conn is None:
            raise PublishUnavailable("broker not connected")
        self._acked = set()
        self._batch_done.clear()
        self._conn.ioloop.add_callback_threadsafe(lambda: self._publish_all(docs))
        self._batch_done.wait(timeout)
        return set(self._acked)

    def stop(self) -> None:
        self._stopping = True
        conn = self._conn
        if conn is not None:
            try:
                conn.ioloop.add_callback_threadsafe(
                    lambda: conn.close() if conn.is_open else conn.ioloop.stop()
                )
            except Exception:
                log.debug("relay connection already stopped")
        self._thread.join(timeout=5)


class KombuPublisher:
    """For the filesystem stand-in bus: kombu publishes one message at a time."""

    def __init__(self, url: str, exchanges: Iterable[str] = ()):
        self._conn = bus.connection(url)
        self._producer = Producer(self._conn.channel())
        for name in exchanges:
            bus.topic_exchange(name)(self._producer.channel).declare()

    def start(self) -> KombuPublisher:
        return self

    def publish_batch(self, docs: list[dict], timeout: float = 30.0) -> set[str]:
        done = set()
        for doc in docs:
            self._producer.publish(
                doc["body"],
                exchange=bus.topic_exchange(doc["exchange"]),
                routing_key=doc["routing_key"],
                serializer="json",
                headers=doc.get("headers") or {},
                message_id=doc["_id"],
                type=doc["routing_key"],
                delivery_mode=2,
            )
            done.add(doc["_id"])
        return done

    def stop(self) -> None:
        self._conn.release()


def make_publisher(url: str, exchanges: Iterable[str] = ()):
    cls = AmqpBatchPublisher if bus.is_amqp(url) else KombuPublisher
    return cls(url, exchanges).start()


class Lease:
    """One relay per service database publishes at a time; another takes over if it dies."""

    def __init__(self, db: Database, name: str, ttl: float = 10.0):
        self._locks = db["locks"]
        self._name = name
        self._ttl = ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def acquire(self) -> bool:
        now = dt.datetime.now(dt.UTC)
        try:
            self._locks.find_one_and_update(
                {"_id": self._name, "$or": [{"holder": self.holder}, {"until": {"$lt": now}}]},
                {"$set": {"holder": self.holder, "until": now + dt.timedelta(seconds=self._ttl)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            return True
        except DuplicateKeyError:
            return False

    def release(self) -> None:
        self._locks.delete_one({"_id": self._name, "holder": self.holder})


class Relay:
    def __init__(
        self,
        db: Database,
        publisher,
        *,
        batch_size: int = 500,
        idle_wait: float = 0.1,
        lease_ttl: float = 10.0,
    ):
        self.db = db
        self.publisher = publisher
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.lease = Lease(db, "outbox-relay", lease_ttl)
        self._lease_ttl = lease_ttl

    def run_once(self) -> int:
        """Publish one batch; answer how many events the broker confirmed."""
        docs = list(
            self.db[outbox.COLLECTION]
            .find({"sent_at": None})
            .sort("created_at", 1)
            .limit(self.batch_size)
        )
        if not docs:
            PENDING.set(0)
            return 0
        confirmed = self.publisher.publish_batch(docs)
        if confirmed:
            now = dt.datetime.now(dt.UTC)
            # One point update per id in one round trip: cheaper than a large $in everywhere.
            # A secret (a one-time code) leaves the row in the same update that marks it sent.
            self.db[outbox.COLLECTION].bulk_write(
                [
                    UpdateOne({"_id": d["_id"]}, outbox.sent_marks(d, now))
                    for d in docs
                    if d["_id"] in confirmed
                ],
                ordered=False,
            )
            for doc in docs:
                if doc["_id"] in confirmed:
                    PUBLISHED.labels(doc["exchange"]).inc()
        PENDING.set(len(docs) - len(confirmed))
        return len(confirmed)

    def run(self, stop: threading.Event) -> None:
        renew_every = self._lease_ttl / 3
        leased_at = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - leased_at > renew_every:
                    if not self.lease.acquire():
                        stop.wait(renew_every)
                        continue
                    leased_at = time.monotonic()
                sent = self.run_once()
                if sent < self.batch_size:
                    stop.wait(self.idle_wait if sent == 0 else 0)
            except PublishUnavailable:
                stop.wait(1.0)
            except PyMongoError as exc:
                log.warning("relay cannot read the outbox: %s", exc)
                stop.wait(2.0)
        self.lease.release()
