"""The outbox relay's publish rate with publisher confirms, against one confirm per message.

.venv/bin/python -m bench.relay [--n 3000] [--queue-type quorum|classic]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import time
import uuid

import pika
import pymongo
from marshmallow import Schema, fields

from bench.common import (
    CpuMeter,
    Row,
    background_load,
    markdown_table,
    pids_named,
    rabbit_vhost,
    secantus,
    workdir,
)
from edu_common import context, mongo, outbox
from edu_common.envelope import EventType
from edu_common.relay import PublishUnavailable, Relay, _properties, make_publisher

NAME = "relay"
QUEUE = "bench.relay"
BATCH_SIZES = (100, 500, 1000)
DEFAULT_BATCH = 500  # Relay's own default
RUN_DEADLINE = 60.0  # a run that takes longer than this is broken, not slow


class ThingSchema(Schema):
    thing_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    status = fields.String(required=True)


THING_HAPPENED = EventType(
    service="bench",
    name="thing.happened",
    version=1,
    schema=ThingSchema,
    description="A benchmark event, the size of a typical domain event.",
)
EXCHANGE = THING_HAPPENED.exchange


class TimedPublisher:
    """Wraps the real publisher to tell how much of a relay run was spent publishing."""

    def __init__(self, inner):
        self.inner = inner
        self.seconds = 0.0

    def publish_batch(self, docs, timeout: float = 30.0):
        start = time.perf_counter()
        try:
            return self.inner.publish_batch(docs, timeout)
        finally:
            self.seconds += time.perf_counter() - start


class TimedDb:
    """Hands the relay its collections with the marking (bulk_write) timed, the other half of
    its MongoDB work (the rest of a run is the find of pending events and Python)."""

    def __init__(self, inner):
        self.inner = inner
        self.update_seconds = 0.0

    def __getitem__(self, name: str):
        return _TimedCollection(self.inner[name], self)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


class _TimedCollection:
    def __init__(self, inner, owner: TimedDb):
        self._inner = inner
        self._owner = owner

    def bulk_write(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self._inner.bulk_write(*args, **kwargs)
        finally:
            self._owner.update_seconds += time.perf_counter() - start

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def fill_outbox(db, n: int) -> list[dict]:
    """N events recorded the way services record them; answers the stored documents."""
    for seq in range(n):
        # Events emitted inside an HTTP request carry its trace and request id as headers.
        with context.bound(context.from_incoming(None, None)):
            envelope = THING_HAPPENED.make(
                {"thing_id": uuid.uuid4().hex, "seq": seq, "status": "accepted"}
            )
            outbox.add(db, None, envelope, EXCHANGE)
    return list(db[outbox.COLLECTION].find().sort("created_at", 1))


def reset_outbox(db, snapshot: list[dict]) -> None:
    """The same pending events again; insert_many is far quicker than N outbox.add calls."""
    db.drop_collection(outbox.COLLECTION)
    mongo.ensure_indexes(db, outbox.INDEXES)
    db[outbox.COLLECTION].insert_many([{**d, "sent_at": None} for d in snapshot])


class Broker:
    """A blocking connection for topology, counting and purging."""

    def __init__(self, url: str, queue_type: str):
        self.conn = pika.BlockingConnection(pika.URLParameters(url))
        self.chan = self.conn.channel()
        self.chan.exchange_declare(EXCHANGE, "topic", durable=True)
        self.chan.queue_declare(QUEUE, durable=True, arguments={"x-queue-type": queue_type})
        self.chan.queue_bind(QUEUE, EXCHANGE, "#")

    def depth(self) -> int:
        return self.chan.queue_declare(QUEUE, passive=True).method.message_count

    def purge(self) -> None:
        self.chan.queue_purge(QUEUE)

    def expect(self, n: int, what: str) -> None:
        # A quorum queue may report a just-confirmed message a moment later.
        deadline = time.monotonic() + 5
        while (depth := self.depth()) != n and time.monotonic() < deadline:
            time.sleep(0.05)
        if depth != n:
            raise RuntimeError(f"{what}: {depth} messages in the queue, expected {n}")
        self.purge()

    def close(self) -> None:
        self.conn.close()


def confirming_channel(url: str):
    conn = pika.BlockingConnection(pika.URLParameters(url))
    chan = conn.channel()
    chan.confirm_delivery()  # each basic_publish now waits for the broker's ack
    return conn, chan


def _publish_one(chan, doc: dict) -> None:
    # The relay's own body encoding and properties, so both sides send the same messages.
    body = json.dumps(doc["body"], ensure_ascii=False).encode()
    chan.basic_publish(doc["exchange"], doc["routing_key"], body, _properties(doc))


def naive_relay(db, url: str, batch_size: int) -> float:
    """(a) Read a page, then publish-and-wait and mark sent one message at a time."""
    conn, chan = confirming_channel(url)
    coll = db[outbox.COLLECTION]
    try:
        start = time.perf_counter()
        while True:
            docs = list(coll.find({"sent_at": None}).sort("created_at", 1).limit(batch_size))
            if not docs:
                break
            for doc in docs:
                _publish_one(chan, doc)
                coll.update_one({"_id": doc["_id"]}, {"$set": {"sent_at": dt.datetime.now(dt.UTC)}})
            if time.perf_counter() - start > RUN_DEADLINE:
                raise RuntimeError("naive relay did not finish in time")
        return time.perf_counter() - start
    finally:
        conn.close()


def naive_publish(docs: list[dict], url: str) -> float:
    """(b) Only the per-message-confirm publishing of (a), without MongoDB."""
    conn, chan = confirming_channel(url)
    try:
        start = time.perf_counter()
        for doc in docs:
            _publish_one(chan, doc)
        return time.perf_counter() - start
    finally:
        conn.close()


def started_publisher(url: str):
    publisher = make_publisher(url, [EXCHANGE])
    # An empty batch answers once the connection, channel and confirm mode are up.
    deadline = time.monotonic() + 15
    while True:
        try:
            publisher.publish_batch([])
            return publisher
        except PublishUnavailable:
            if time.monotonic() > deadline:
                publisher.stop()
                raise


def batch_publish(docs: list[dict], url: str, batch_size: int) -> float:
    """(d) Only AmqpBatchPublisher, without MongoDB."""
    publisher = started_publisher(url)
    try:
        start = time.perf_counter()
        confirmed = 0
        for i in range(0, len(docs), batch_size):
            confirmed += len(publisher.publish_batch(docs[i : i + batch_size]))
        elapsed = time.perf_counter() - start
    finally:
        publisher.stop()
    if confirmed != len(docs):
        raise RuntimeError(f"publisher confirmed {confirmed} of {len(docs)}")
    return elapsed


def relay_drain(db, url: str, batch_size: int, n: int) -> tuple[float, float, float]:
    """(c) Relay.run_once until the outbox is empty.

    Answers (elapsed, seconds in publish_batch, seconds marking sent)."""
    publisher = TimedPublisher(started_publisher(url))
    timed_db = TimedDb(db)
    relay = Relay(timed_db, publisher, batch_size=batch_size)
    try:
        start = time.perf_counter()
        sent = 0
        while sent < n:
            sent += relay.run_once()
            if time.perf_counter() - start > RUN_DEADLINE:
                raise RuntimeError(f"relay sent {sent} of {n} in {RUN_DEADLINE}s")
        elapsed = time.perf_counter() - start
    finally:
        publisher.inner.stop()
    if (left := outbox.pending_count(db)) != 0:
        raise RuntimeError(f"{left} events still pending after the relay drained the outbox")
    return elapsed, publisher.seconds, timed_db.update_seconds


def run(n: int = 3000, queue_type: str = "quorum", log=print) -> list[Row]:
    # AmqpBatchPublisher.stop() logs its own orderly channel close as a warning: keep it quiet.
    relay_log = logging.getLogger("edu_common.relay")
    level = relay_log.level
    relay_log.setLevel(logging.ERROR)
    try:
        return _run(n, queue_type, log)
    finally:
        relay_log.setLevel(level)


def _run(n: int, queue_type: str, log) -> list[Row]:
    rows: list[Row] = []
    busy = background_load()
    if busy > 0.25:
        log(f"relay: WARNING other work keeps {busy:.1f} cores busy: figures will be low")
    with workdir(NAME) as base, secantus(base) as sdb, rabbit_vhost(NAME) as url:
        client = pymongo.MongoClient(sdb.url, tz_aware=True)
        db = client["bench_relay"]
        broker = Broker(url, queue_type)
        parties = {"bench": [os.getpid()], "database": [sdb.pid], "broker": pids_named("beam.smp")}
        others: dict[str, float] = {}

        def metered(key: str, fn, *args):
            with CpuMeter(parties) as meter:
                result = fn(*args)
            others[key] = meter.others
            return result

        try:
            mongo.ensure_indexes(db, outbox.INDEXES)
            t = time.perf_counter()
            snapshot = fill_outbox(db, n)
            log(f"relay: {n} events recorded with outbox.add in {time.perf_counter() - t:.1f}s")

            elapsed = metered("a", naive_relay, db, url, DEFAULT_BATCH)
            broker.expect(n, "naive relay")
            if outbox.pending_count(db):
                raise RuntimeError("the naive relay left events pending")
            naive = n / elapsed
            log(f"relay: (a) naive relay {naive:.0f} msg/s")

            elapsed = metered("b", naive_publish, snapshot, url)
            broker.expect(n, "naive publish")
            naive_pub = n / elapsed
            log(f"relay: (b) per-message confirms, no MongoDB {naive_pub:.0f} msg/s")

            elapsed = metered("d", batch_publish, snapshot, url, DEFAULT_BATCH)
            broker.expect(n, "batch publish")
            batch_pub = n / elapsed
            log(f"relay: (d) AmqpBatchPublisher, no MongoDB {batch_pub:.0f} msg/s")

            relay_rates = {}
            for size in BATCH_SIZES:
                reset_outbox(db, snapshot)
                elapsed, publishing, marking = metered(size, relay_drain, db, url, size, n)
                broker.expect(n, f"relay batch {size}")
                shares = (publishing / elapsed, marking / elapsed)
                per_call = marking / -(-n // size)  # one bulk_write per batch
                relay_rates[size] = (n / elapsed, *shares, per_call)
                log(
                    f"relay: (c) Relay batch {size}: {n / elapsed:.0f} msg/s, "
                    f"publish {shares[0]:.0%}, marking {shares[1]:.0%}"
                )
        finally:
            broker.close()
            client.close()

    def versus(rate: float, base: float, label: str) -> str:
        return f"{rate / base:.2f}x {label}"

    def disturbed(key) -> str:
        return f"; other processes {others[key]:.1f} cores"

    rows.append(
        Row(
            NAME,
            "(a) baseline: naive relay, publish + wait for confirm + update_one per message",
            naive,
            "msg/s",
            "1.00x (a)",
            f"N={n}, {queue_type} queue, persistent messages; "
            f"other load before start {busy:.1f} cores" + disturbed("a"),
        )
    )
    rows.append(
        Row(
            NAME,
            "(b) per-message confirms only, no MongoDB",
            naive_pub,
            "msg/s",
            versus(naive_pub, naive, "(a)"),
            "pika BlockingConnection + confirm_delivery" + disturbed("b"),
        )
    )
    for size in BATCH_SIZES:
        rate, publishing, marking, per_call = relay_rates[size]
        default = " (default)" if size == DEFAULT_BATCH else ""
        rows.append(
            Row(
                NAME,
                f"(c) Relay + AmqpBatchPublisher, batch {size}{default}",
                rate,
                "msg/s",
                versus(rate, naive, "(a)"),
                f"wall time: publish_batch {publishing:.0%}, marking {marking:.0%} "
                f"({1000 * per_call:.0f} ms a batch), find + rest {1 - publishing - marking:.0%}"
                + disturbed(size),
            )
        )
    rows.append(
        Row(
            NAME,
            f"(d) AmqpBatchPublisher only, batch {DEFAULT_BATCH}, no MongoDB",
            batch_pub,
            "msg/s",
            versus(batch_pub, naive_pub, "(b)"),
            "pipelined confirms" + disturbed("d"),
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="events per run")
    parser.add_argument("--queue-type", choices=("quorum", "classic"), default="quorum")
    args = parser.parse_args(argv)
    rows = run(args.n, args.queue_type, log=lambda m: print(m, file=sys.stderr))
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
