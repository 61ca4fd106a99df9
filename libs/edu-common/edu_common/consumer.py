"""The idempotent consumer: a durable queue per (service, handler), at-least-once, once in effect.

A message is acknowledged only after the handler's transaction has committed. The handler's
database effects and the processed-message record (the inbox) are written in one transaction,
so a redelivered message finds its record and has no second effect. A failing handler is
retried with growing back-off through a retry queue, then parked in a dead-letter queue. A parked
event that carries a secret (a one-time code) expires there (SECRET_DEAD_LETTER_TTL_SECONDS).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kombu import Producer
from kombu.mixins import ConsumerMixin
from marshmallow import ValidationError
from prometheus_client import Counter, Histogram
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from edu_common import bus, context, outbox
from edu_common.envelope import Envelope, EventType
from edu_common.logs import redact_text
from edu_common.mongo import Index, in_transaction
from edu_common.settings import BusSettings

log = logging.getLogger(__name__)

INBOX = "inbox"
INDEXES = [Index(INBOX, [("at", 1)], name="inbox_ttl", expire_after_seconds=30 * 86400)]

CONSUMED = Counter("events_consumed_total", "Events handled", ["queue", "outcome"])
HANDLER_SECONDS = Histogram("event_handler_seconds", "Time spent in a handler", ["queue"])


class HandlerContext:
    """What a handler gets besides the event: the open transaction and ways to act after it."""

    def __init__(self, db: Database, session: ClientSession):
        self.db = db
        self.session = session
        self._after_commit: list[Callable[[], None]] = []

    def emit(self, event: EventType, data: dict) -> Envelope:
        return outbox.emit(self.db, self.session, event, data)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run fn once the transaction has committed (e.g. a first delivery attempt)."""
        self._after_commit.append(fn)


Handler = Callable[[Envelope, HandlerContext], None]


@dataclass(frozen=True)
class Binding:
    """A handler bound to events on the bus: its own durable queue, retries, dead letters."""

    name: str  # the handler's name; the queue is "<service>.<name>"
    events: tuple[tuple[str, str], ...]  # (exchange, routing key) pairs
    handler: Handler
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0
    # The dead-letter queue's own message TTL (x-message-ttl), if it has one.
    dead_letter_ttl_seconds: int | None = None
    # Its events carry secrets (one-time codes): a parked one expires after the shared
    # SECRET_DEAD_LETTER_TTL_SECONDS at the latest. Set by ``on`` from the events' contracts.
    carries_secrets: bool = False

    @classmethod
    def on(cls, name: str, events: Iterable[EventType], handler: Handler, **kw) -> Binding:
        events = list(events)
        kw.setdefault("carries_secrets", any(e.secret_fields for e in events))
        return cls(name, tuple((e.exchange, e.routing_key) for e in events), handler, **kw)

    def delay(self, attempt: int) -> float:
        return min(self.retry_base_seconds * 2 ** (attempt - 1), self.retry_max_seconds)


class _AlreadyDone(Exception):
    pass


class Reject(Exception):
    """Raise from a handler for an event that can never be handled: parked at once, no retries."""


def handle_once(db: Database, queue: str, sub: Binding, envelope: Envelope) -> bool:
    """Apply the handler unless this queue has already processed the envelope.

    Answers False for a duplicate. Exceptions from the handler propagate (nothing committed).
    """
    key = f"{queue}:{envelope.id}"
    if db[INBOX].find_one({"_id": key}, projection={"_id": 1}):
        return False

    def work(session: ClientSession) -> HandlerContext:
        try:
            db[INBOX].insert_one(
                {"_id": key, "type": envelope.type, "at": dt.datetime.now(dt.UTC)},
                session=session,
            )
        except DuplicateKeyError as exc:
            raise _AlreadyDone from exc
        ctx = HandlerContext(db, session)
        sub.handler(envelope, ctx)
        return ctx

    try:
        ctx = in_transaction(db, work)
    except _AlreadyDone:
        return False
    for fn in ctx._after_commit:
        try:
            fn()
        except Exception:
            log.exception("after-commit action failed; it will be retried by its own sweep")
    return True


class Worker(ConsumerMixin):
    def __init__(
        self,
        service: str,
        db: Database,
        url: str,
        bindings: list[Binding],
        *,
        secret_dead_letter_ttl_seconds: int | None = None,
    ):
        self.service = service
        self.db = db
        self.url = url
        self.amqp = bus.is_amqp(url)
        self.connection = bus.connection(url)
        self.bindings = bindings
        if secret_dead_letter_ttl_seconds is None:
            secret_dead_letter_ttl_seconds = BusSettings.from_env().secret_dead_letter_ttl_seconds
        self.secret_dead_letter_ttl_seconds = secret_dead_letter_ttl_seconds
        self.last_tick = time.monotonic()
        self.ready = threading.Event()  # set once every queue is declared and consumed

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.ready.set()

    def queue_name(self, sub: Binding) -> str:
        return f"{self.service}.{sub.name}"

    def get_consumers(self, Consumer, channel):
        consumers = []
        producer = Producer(channel)
        for sub in self.bindings:
            name = self.queue_name(sub)
            main = bus.consumer_queue(name, list(sub.events), amqp=self.amqp)
            dead = bus.dead_queue(name, amqp=self.amqp, ttl_seconds=sub.dead_letter_ttl_seconds)
            declared = [main, dead]
            if self.amqp:
                declared.append(bus.retry_queue(name))
            for q in declared:
                q(channel).declare()
            consumer = Consumer(
                queues=[main],
                callbacks=[self._callback(sub, name, producer)],
                accept=["json"],
                prefetch_count=10,
            )
            consumers.append(consumer)
        return consumers

    def dead_letter_ttl(self, sub: Binding) -> float | None:
        """Seconds a parked message of ``sub`` lives (None: until someone deals with it)."""
        limits = [sub.dead_letter_ttl_seconds]
        if sub.carries_secrets:
            limits.append(self.secret_dead_letter_ttl_seconds)
        given = [t for t in limits if t]
        return min(given) if given else None

    def on_iteration(self):
        self.last_tick = time.monotonic()

    def on_connection_error(self, exc, interval):
        # Retrying is being alive: a restart would not bring the broker back any sooner.
        self.last_tick = time.monotonic()
        log.warning("broker connection lost (%s); retrying in %ss", exc, interval)

    def _callback(self, sub: Binding, queue: str, producer: Producer):
        def on_message(body, message):
            self.last_tick = time.monotonic()
            self.process(sub, queue, producer, body, message)

        return on_message

    def process(self, sub, queue, producer, body, message) -> None:
        headers = message.headers or {}
        attempt = int(headers.get("x-attempt", 1))
        try:
            raw = json.loads(body) if isinstance(body, str | bytes) else body
            envelope = Envelope.from_dict(raw)
        except (ValueError, TypeError, ValidationError) as exc:
            log.error("unreadable message parked in %s.dead: %s", queue, exc)
            self._park(producer, queue, message, body, headers, f"invalid envelope: {exc}", sub=sub)
            CONSUMED.labels(queue, "invalid").inc()
            message.ack()
            return

        parsed = context.parse_traceparent(headers.get("traceparent"))
        ctx = context.Context(
            request_id=headers.get("x-request-id"),
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
            trace_id=parsed[0] if parsed else None,
            span_id=context.new_span_id() if parsed else None,
        )
        with context.bound(ctx):
            while True:
                try:
                    with HANDLER_SECONDS.labels(queue).time():
                        applied = handle_once(self.db, queue, sub, envelope)
                    CONSUMED.labels(queue, "ok" if applied else "duplicate").inc()
                    break
                except Exception as exc:
                    error = redact_text(f"{type(exc).__name__}: {exc}")[:500]
                    log.warning(
                        "handler %s failed on %s (attempt %s/%s): %s",
                        queue,
                        envelope.type,
                        attempt,
                        sub.max_attempts,
                        error,
                        extra={"event_id": envelope.id, "trace": traceback.format_exc(limit=5)},
                    )
                    if attempt >= sub.max_attempts or isinstance(exc, Reject):
                        self._park(producer, queue, message, body, headers, error, attempt, sub=sub)
                        CONSUMED.labels(queue, "dead").inc()
                        break
                    if self.amqp:
                        self._retry_later(producer, queue, message, body, headers, sub, attempt)
                        CONSUMED.labels(queue, "retry").inc()
                        break
                    # The filesystem stand-in has no message TTL: back off in place.
                    time.sleep(sub.delay(attempt))
                    attempt += 1
        message.ack()

    def _retry_later(self, producer, queue, message, body, headers, sub, attempt) -> None:
        delay_ms = int(sub.delay(attempt) * 1000)
        producer.publish(
            message.body,
            exchange="",
            routing_key=f"{queue}.retry",
            headers={**headers, "x-attempt": attempt + 1},
            expiration=delay_ms / 1000,
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            message_id=message.properties.get("message_id"),
            type=message.properties.get("type"),
            delivery_mode=2,
        )

    def _park(self, producer, queue, message, body, headers, error, attempt=1, *, sub) -> None:
        # Per message, so a queue declared earlier with another (or no) TTL needs no change.
        ttl = self.dead_letter_ttl(sub)
        producer.publish(
            message.body,
            exchange="",
            routing_key=f"{queue}.dead",
            expiration=ttl,
            headers={
                **headers,
                "x-attempt": attempt,
                "x-error": error,
                "x-original-routing-key": message.delivery_info.get("routing_key"),
                "x-dead-at": dt.datetime.now(dt.UTC).isoformat(),
            },
            content_type=message.content_type or "application/json",
            content_encoding=message.content_encoding or "utf-8",
            message_id=message.properties.get("message_id"),
            type=message.properties.get("type"),
            delivery_mode=2,
        )
