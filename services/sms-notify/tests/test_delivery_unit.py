"""Delivery with fake channels on the embedded database: claims, back-off, failures, leases."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from marshmallow import ValidationError

from edu_common import mongo
from edu_common.envelope import Envelope
from edu_common.testing import Clock
from sms_notify import store
from sms_notify.adapters.channels import Outgoing, PermanentError, TransientError
from sms_notify.events import CodeRequested
from sms_notify.usecases import delivery
from sms_notify.usecases.notifications import on_code_requested

CODE = "482913"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
POLICY = delivery.Policy(
    max_attempts=3,
    backoff_base=dt.timedelta(seconds=5),
    backoff_max=dt.timedelta(minutes=10),
    lease=dt.timedelta(seconds=60),
)


class FakeChannel:
    """Records what it was given; fails as told, in order, then succeeds."""

    provider = "fake"

    def __init__(self, *failures: Exception):
        self.failures = list(failures)
        self.sent: list[Outgoing] = []

    def send(self, message: Outgoing) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"fake-{len(self.sent)}"


class FakeContext:
    """The consumer's HandlerContext without a transaction."""

    def __init__(self, db):
        self.db = db
        self.session = None
        self.after: list = []

    def after_commit(self, fn) -> None:
        self.after.append(fn)


@pytest.fixture
def db(mongo_db):
    mongo.ensure_indexes(mongo_db, store.INDEXES)
    return mongo_db


def queue_message(db, *, channel="sms", to="+77011234567", expires_at=None) -> str:
    body = f"Растау коды: {store.CODE_MASK}. Оны ешкімге айтпаңыз."
    message = store.new_message(
        event_id=str(uuid.uuid4()),
        kind="code",
        purpose="login",
        channel=channel,
        to=to,
        language="kk",
        subject=None if channel == "sms" else "Кіру коды",
        body=body,
        secret={"code": CODE},
        now=T0,
        expires_at=expires_at or T0 + dt.timedelta(minutes=10),
    )
    assert store.insert_once(db, message)
    return message["_id"]


def test_a_sent_message_reaches_the_channel_with_the_code_and_forgets_it(db):
    channel = FakeChannel()
    message_id = queue_message(db)
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=Clock(T0)) == store.SENT
    [sent] = channel.sent
    assert sent.body == f"Растау коды: {CODE}. Оны ешкімге айтпаңыз."
    assert (sent.id, sent.to) == (message_id, "+77011234567")
    doc = store.find(db, message_id)
    assert doc["status"] == store.SENT
    assert (doc["provider"], doc["provider_id"], doc["attempts"]) == ("fake", "fake-1", 1)
    assert doc["sent_at"] == T0
    assert "secret" not in doc and "lease_until" not in doc and "claim" not in doc
    assert CODE not in json.dumps(doc, default=str)
    # Sent is final: nothing claims it again.
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=Clock(T0)) is None
    assert len(channel.sent) == 1


def test_transient_failures_back_off_then_give_up(db):
    clock = Clock(T0)
    channel = FakeChannel(*(TransientError(f"SMSC HTTP 503 for {CODE}") for _ in range(3)))
    message_id = queue_message(db)
    channels = {"sms": channel}

    assert delivery.deliver(db, channels, message_id, policy=POLICY, clock=clock) == store.QUEUED
    doc = store.find(db, message_id)
    assert doc["attempts"] == 1
    assert doc["next_attempt_at"] == T0 + dt.timedelta(seconds=5)
    assert CODE not in doc["last_error"] and store.CODE_MASK in doc["last_error"]
    assert doc["secret"] == {"code": CODE}  # still needed for the next try

    clock.advance(seconds=4)  # not due yet
    assert delivery.deliver(db, channels, message_id, policy=POLICY, clock=clock) is None
    clock.advance(seconds=1)
    assert delivery.deliver(db, channels, message_id, policy=POLICY, clock=clock) == store.QUEUED
    assert store.find(db, message_id)["next_attempt_at"] == clock.now + dt.timedelta(seconds=10)

    clock.advance(seconds=10)
    assert delivery.deliver(db, channels, message_id, policy=POLICY, clock=clock) == store.FAILED
    doc = store.find(db, message_id)
    assert doc["status"] == store.FAILED and doc["attempts"] == 3
    assert doc["last_error"].startswith("gave up after 3 attempts")
    assert "secret" not in doc and "next_attempt_at" not in doc
    assert channel.sent == []


def test_backoff_grows_and_is_capped():
    policy = delivery.Policy(
        backoff_base=dt.timedelta(seconds=5), backoff_max=dt.timedelta(seconds=30)
    )
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 30, 30]


def test_a_permanent_failure_fails_at_once_without_the_recipient_in_the_error(db):
    channel = FakeChannel(PermanentError("SMSC error 7: invalid number +77011234567"))
    message_id = queue_message(db)
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=Clock(T0)) == store.FAILED
    doc = store.find(db, message_id)
    assert doc["status"] == store.FAILED and doc["attempts"] == 1
    assert doc["last_error"] == "SMSC error 7: invalid number <recipient>"
    assert "secret" not in doc


def test_an_unexpected_adapter_error_is_tried_again(db):
    channel = FakeChannel(RuntimeError("bug"))
    message_id = queue_message(db)
    clock = Clock(T0)
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=clock) == store.QUEUED
    clock.advance(seconds=5)
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=clock) == store.SENT


def test_an_expired_code_is_not_sent(db):
    channel = FakeChannel()
    message_id = queue_message(db, expires_at=T0 + dt.timedelta(minutes=10))
    clock = Clock(T0 + dt.timedelta(minutes=10))
    assert delivery.deliver(db, {"sms": channel}, message_id, clock=clock) == store.FAILED
    assert channel.sent == []
    assert store.find(db, message_id)["last_error"] == "expired before it could be sent"


def test_a_channel_without_an_adapter_fails_the_message(db):
    message_id = queue_message(db, channel="email", to="parent@example.kz")
    assert delivery.deliver(db, {"sms": FakeChannel()}, message_id, clock=Clock(T0)) == store.FAILED


def test_a_crashed_workers_message_is_taken_over_after_its_lease(db):
    message_id = queue_message(db)
    clock = Clock(T0)
    crashed = delivery.claim(db, message_id, clock(), POLICY)  # claimed, then the worker died
    assert crashed["status"] == store.SENDING
    channel = FakeChannel()

    clock.advance(seconds=59)  # the lease still holds: nobody else sends it
    assert delivery.sweep(db, {"sms": channel}, policy=POLICY, clock=clock) == 0
    clock.advance(seconds=1)
    assert delivery.sweep(db, {"sms": channel}, policy=POLICY, clock=clock) == 1
    assert len(channel.sent) == 1
    doc = store.find(db, message_id)
    assert doc["status"] == store.SENT and doc["attempts"] == 2

    # The first worker comes back and fails its send: the other worker's outcome stands.
    delivery._attempt(db, {"sms": FakeChannel(PermanentError("late"))}, crashed, POLICY, clock)
    assert store.find(db, message_id)["status"] == store.SENT


def test_sweep_takes_only_what_is_due(db):
    clock = Clock(T0)
    due = queue_message(db, to="+77010000001")
    later = queue_message(db, to="+77010000002")
    db[store.MESSAGES].update_one(
        {"_id": later}, {"$set": {"next_attempt_at": T0 + dt.timedelta(minutes=1)}}
    )
    channel = FakeChannel()
    assert delivery.sweep(db, {"sms": channel}, clock=clock) == 1
    assert [m.id for m in channel.sent] == [due]
    assert store.find(db, later)["status"] == store.QUEUED


def event(**changes) -> Envelope:
    now = dt.datetime.now(dt.UTC)
    data = {
        "challenge_id": "ch-1",
        "purpose": "login",
        "channel": "sms",
        "to": "+77011234567",
        "code": CODE,
        "language": "ru",
        "expires_at": (now + dt.timedelta(minutes=10)).isoformat(),
        "account_id": "acc-1",
        **changes,
    }
    return Envelope(
        id=str(uuid.uuid4()),
        type="identity.code.requested",
        version=1,
        occurred_at=now,
        source="identity",
        data=data,
    )


def test_the_handler_stores_one_message_per_event_and_sends_after_commit(db, make_deps):
    channel = FakeChannel()
    deps = make_deps(db, channels={"sms": channel})
    envelope = event()
    ctx = FakeContext(db)
    on_code_requested(deps, envelope, ctx)
    doc = db[store.MESSAGES].find_one({"event_id": envelope.id})
    assert doc["status"] == store.QUEUED and doc["secret"] == {"code": CODE}
    assert channel.sent == []  # nothing leaves before the transaction has committed
    [after] = ctx.after
    after()
    assert [m.body for m in channel.sent] == [f"Код для входа: {CODE}. Никому не сообщайте его."]

    again = FakeContext(db)
    on_code_requested(deps, envelope, again)
    assert again.after == []
    assert db[store.MESSAGES].count_documents({"event_id": envelope.id}) == 1


def test_the_event_schema_reads_tolerantly_and_never_echoes_values():
    envelope = event(new_field="ignored")
    assert "new_field" not in CodeRequested().load(envelope.data)
    with pytest.raises(ValidationError) as err:
        CodeRequested().load(event(to="parent@example.kz").data)  # an e-mail for an SMS
    assert err.value.messages == {"to": ["Not an E.164 phone number."]}
    with pytest.raises(ValidationError) as err:
        CodeRequested().load(event(channel="email", to="+77011234567", code="x").data)
    assert set(err.value.messages) == {"code"}
    assert "+77011234567" not in str(err.value.messages)
