"""The Mobizon adapter, fail-over between SMS providers, and delivery statuses."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from sms_notify import store
from sms_notify.adapters.channels import (
    FailoverChannel,
    Outgoing,
    PermanentError,
    Receipt,
    Report,
    TransientError,
)
from sms_notify.adapters.mobizon import MobizonChannel
from sms_notify.usecases import delivery

SMS = Outgoing(id="0f" * 16, channel="sms", to="+77011234567", body="Сәлем")
T0 = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)


class Answer:
    def __init__(self, status: int, body):
        self.status_code = status
        self._body = body

    def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class Session:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def post(self, url, params=None, data=None, timeout=None):
        self.calls.append((url, params, data))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def mobizon(answer) -> tuple[MobizonChannel, Session]:
    session = Session(answer)
    return MobizonChannel("https://api.mobizon.kz", "key-1", session=session), session


def test_mobizon_gets_its_form_and_answers_the_message_id():
    channel, session = mobizon(
        Answer(200, {"code": 0, "data": {"messageId": "913"}, "message": ""})
    )
    assert channel.send(SMS) == "913"
    [(url, params, form)] = session.calls
    assert url == "https://api.mobizon.kz/service/message/sendsmsmessage"
    assert params == {"output": "json", "api": "v1"}
    assert form == {"recipient": "77011234567", "text": "Сәлем", "apiKey": "key-1"}


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (Answer(502, {}), TransientError),
        (Answer(429, {}), TransientError),
        (Answer(400, {}), PermanentError),
        (Answer(200, ValueError("not json")), TransientError),  # garbage
        (Answer(200, ["a", "list"]), TransientError),
        (Answer(200, {"code": 0, "data": {}}), TransientError),  # no id: cannot track it
        (Answer(200, {"code": 1, "data": {"recipient": "bad"}, "message": "x"}), PermanentError),
        (Answer(200, {"code": 8, "data": [], "message": "auth"}), TransientError),
        (requests.Timeout(), TransientError),
        (requests.ConnectionError(), TransientError),
    ],
)
def test_mobizon_failures_are_sorted(answer, kind):
    channel, _ = mobizon(answer)
    with pytest.raises(kind):
        channel.send(SMS)


def test_mobizon_statuses():
    channel, _ = mobizon(Answer(200, {"code": 0, "data": [
        {"id": "1", "status": "DELIVRD"}, {"id": "2", "status": "UNDELIV"},
        {"id": "3", "status": "ENQUEUD"}, "junk"]}))  # fmt: skip
    assert channel.status(["1", "2", "3"]) == [
        Report("1", "delivered", "DELIVRD"),
        Report("2", "undelivered", "UNDELIV"),
        Report("3", "pending", "ENQUEUD"),
    ]


def test_a_transient_failure_passes_to_the_next_provider(h):
    first = h.FakeSms("smsc", TransientError("SMSC HTTP 503"))
    second = h.FakeSms("mobizon")
    channel = FailoverChannel([first, second])
    assert channel.send(SMS) == Receipt("mobizon", "mobizon-1")
    assert channel.send(SMS) == Receipt("smsc", "smsc-1")  # the first is back: it comes first


def test_a_permanent_failure_does_not_fail_over_and_all_transient_is_transient(h):
    second = h.FakeSms("mobizon")
    with pytest.raises(PermanentError):
        FailoverChannel([h.FakeSms("smsc", PermanentError("HTTP 400")), second]).send(SMS)
    assert second.sent == []
    both_down = FailoverChannel(
        [h.FakeSms("smsc", TransientError("503")), h.FakeSms("mobizon", TransientError("504"))]
    )
    with pytest.raises(TransientError, match="smsc: 503; mobizon: 504"):
        both_down.send(SMS)


def queue(db, *, kind="queue", to="+77011234567") -> str:
    message = store.new_message(
        event_id=f"ev-{kind}-{to}", kind=kind, purpose="kg_registered", channel="sms", to=to,
        language="ru", subject=None, body="Текст", secret=None, now=T0,
    )  # fmt: skip
    assert store.insert_once(db, message)
    return message["_id"]


def test_the_message_records_which_provider_took_it_and_then_its_delivery(plain_db, h):
    message_id = queue(plain_db)
    clock = h.Clock(T0)

    class Smsc(h.FakeSms):
        def status(self, ids, to=None):
            return [Report(i, "delivered", "1") for i in ids]

    down = h.FakeSms("smsc", TransientError("SMSC did not answer in time"))
    second = Smsc("mobizon")
    channels = {"sms": FailoverChannel([down, second])}
    assert delivery.deliver(plain_db, channels, message_id, clock=clock) == store.SENT
    doc = store.find(plain_db, message_id)
    assert (doc["provider"], doc["provider_id"]) == ("mobizon", "mobizon-1")
    assert delivery.poll_statuses(plain_db, channels, clock=clock) == 0  # not due yet
    clock.advance(seconds=31)
    assert delivery.poll_statuses(plain_db, channels, clock=clock) == 1
    assert store.find(plain_db, message_id)["status"] == store.DELIVERED


def test_retries_back_off_on_transient_failures_then_a_dead_letter(plain_db, h):
    message_id = queue(plain_db)
    clock = h.Clock(T0)
    policy = delivery.Policy(max_attempts=3)
    sms = h.FakeSms("smsc", *[TransientError("HTTP 503")] * 3)
    for wait in (0, 5, 10):
        clock.advance(seconds=wait)
        delivery.sweep(plain_db, {"sms": sms}, policy=policy, clock=clock)
    doc = store.find(plain_db, message_id)
    assert (doc["status"], doc["attempts"]) == (store.FAILED, 3)
    [letter] = plain_db[store.DEAD_LETTERS].find()
    assert letter["message_id"] == message_id and letter["status"] == "open"
    assert "HTTP 503" in letter["error"] and "+7701" not in letter["error"]


def test_a_4xx_is_never_retried(plain_db, h):
    message_id = queue(plain_db)
    sms = h.FakeSms("smsc", PermanentError("SMSC HTTP 400"))
    assert delivery.deliver(plain_db, {"sms": sms}, message_id, clock=h.Clock(T0)) == "failed"
    assert store.find(plain_db, message_id)["attempts"] == 1
    assert plain_db[store.DEAD_LETTERS].count_documents({"message_id": message_id}) == 1


def test_a_failed_code_leaves_no_dead_letter(plain_db, h):
    message_id = queue(plain_db, kind="code")
    sms = h.FakeSms("smsc", PermanentError("SMSC HTTP 400"))
    delivery.deliver(plain_db, {"sms": sms}, message_id, clock=h.Clock(T0))
    assert plain_db[store.DEAD_LETTERS].count_documents({}) == 0


def test_reports_are_idempotent_and_an_undelivered_one_makes_a_dead_letter(plain_db, h):
    delivered, undelivered = queue(plain_db), queue(plain_db, to="+77011234568")
    sms = h.FakeSms("smsc")
    for m in (delivered, undelivered):
        delivery.deliver(plain_db, {"sms": sms}, m, clock=h.Clock(T0))
    record = delivery.record_report
    assert record(plain_db, "smsc", "smsc-1", "delivered", "1", T0) == store.DELIVERED
    assert record(plain_db, "smsc", "smsc-1", "undelivered", "20", T0) == store.DELIVERED
    assert record(plain_db, "smsc", "smsc-2", "undelivered", "20", T0) == store.FAILED
    assert record(plain_db, "smsc", "smsc-2", "undelivered", "20", T0) == store.FAILED
    assert record(plain_db, "smsc", "nope", "delivered", "1", T0) is None
    assert record(plain_db, "mobizon", "smsc-1", "delivered", "1", T0) is None
    assert plain_db[store.DEAD_LETTERS].count_documents({"message_id": undelivered}) == 1


def test_a_provider_that_keeps_failing_is_tried_last_for_a_while(h):
    now = [0.0]
    first = h.FakeSms("smsc", *[TransientError("timeout")] * 3)
    second = h.FakeSms("mobizon")
    channel = FailoverChannel([first, second], trip_after=3, cool_down=30, clock=lambda: now[0])
    for _ in range(3):
        assert channel.send(SMS).provider == "mobizon"
    first.failures.clear()  # SMSC is back, but the breaker is open: Mobizon goes first
    assert channel.send(SMS).provider == "mobizon" and first.sent == []
    now[0] = 31.0
    assert channel.send(SMS).provider == "smsc"
