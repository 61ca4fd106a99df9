"""From an event to messages through the handler table: recipients, language, urgency."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edu_common import consumer
from edu_common.consumer import Binding, Reject
from edu_common.envelope import Envelope
from sms_notify import events, journal, store
from sms_notify.usecases import notifications
from sms_notify.worker import bindings, notification_bindings, periodic

NOON = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)
NIGHT = dt.datetime(2026, 3, 2, 18, 30, tzinfo=dt.UTC)  # 23:30 in Almaty


def envelope(routing_key: str, data: dict, occurred_at=NOON) -> Envelope:
    route = notifications.BY_TYPE[routing_key]
    return Envelope(
        id=str(uuid.uuid4()),
        type=route.event.type,
        version=1,
        occurred_at=occurred_at,
        source=route.event.service,
        data=data,
    )


def about(**extra) -> dict:
    return {
        "application_id": "app-1",
        "parent_account_id": "acc-parent",
        "child_iin_masked": "********2034",
        "child_first_name": "Әлихан",
        "district_id": "d-1",
        "kindergarten_ids": ["kg-1"],  # a field we do not read: ignored
        **extra,
    }


@pytest.fixture
def run(plain_db, h, make_deps):
    """Handle an event as the worker does: in a transaction, then the after-commit sends."""
    clock = h.Clock(NOON)
    sms, email = h.FakeSms("smsc"), h.FakeSms("smtp")
    deps = make_deps(plain_db, channels={"sms": sms, "email": email}, clock=clock)

    def handle(env: Envelope) -> None:
        route = notifications.BY_TYPE[f"{env.type}.v{env.version}"]

        def fn(e, ctx):
            notifications.on_event(deps, route, e, ctx)

        consumer.handle_once(plain_db, "q", Binding.on("t", [route.event], fn), env)

    handle.sms, handle.email, handle.clock = sms, email, clock
    return handle


def test_a_queue_move_reaches_the_parent_by_sms_in_their_language(plain_db, h, run):
    h.add_account(plain_db)
    env = envelope(
        "kindergarten.application.queue_number_changed.v1",
        about(queue_number=12, previous_queue_number=40),
    )
    run(env)
    run(env)  # redelivered
    [sent] = run.sms.sent
    assert sent.to == h.PARENT_PHONE
    assert sent.body == "Әлихан (********2034): кезектегі нөмір 40 → 12."
    [doc] = plain_db[store.MESSAGES].find({"event_id": env.id})
    assert (doc["status"], doc["kind"], doc["account_id"]) == ("sent", "queue", h.PARENT)


def test_preferences_choose_the_channels_and_the_language(plain_db, h, run):
    h.add_account(plain_db)
    plain_db[store.PREFERENCES].insert_one(
        {"_id": h.PARENT, "channels": ["email", "sms"], "language": "ru"}
    )
    run(
        envelope(
            "kindergarten.child.enrolled.v1",
            about(
                referral_id="r-1", kindergarten_id="kg-1", kindergarten_name="Балапан", group_id="g"
            ),
        )
    )
    assert [m.body for m in run.sms.sent] == ["Әлихан (********2034) зачислен(а) в «Балапан»."]
    [mail] = run.email.sent
    assert (mail.to, mail.subject) == (h.PARENT_EMAIL, "Ребёнок зачислен")


def test_a_child_who_leaves_is_told_in_the_parents_language(plain_db, h, run):
    h.add_account(plain_db)
    plain_db[store.PREFERENCES].insert_one({"_id": h.PARENT, "language": "ru"})
    run(
        envelope(
            "kindergarten.child.left.v1",
            about(kindergarten_id="kg-1", kindergarten_name="Балапан", reason="school"),
        )
    )
    assert [m.body for m in run.sms.sent] == [
        "Әлихан (********2034) отчислен(а) из «Балапан»: идёт в школу."
    ]


def test_security_messages_go_everywhere_at_night_even_without_consent(plain_db, h, run):
    h.add_account(plain_db, notifications_consent=False)
    run.clock.now = NIGHT
    run(
        envelope(
            "identity.password.changed.v1",
            {"account_id": h.PARENT, "reason": "reset", "sessions_ended": 2},
        )
    )
    assert len(run.sms.sent) == 1 and len(run.email.sent) == 1
    run(envelope("kindergarten.application.closed.v1", about(reason="withdrawn")))
    assert len(run.sms.sent) == 1  # ordinary ones are suppressed without consent
    doc = plain_db[store.MESSAGES].find_one({"kind": "queue"})
    assert doc["status"] == store.SUPPRESSED


def test_the_escort_gets_the_sms_on_their_own_phone(plain_db, h, run):
    h.add_account(plain_db, language="ru")
    run(
        envelope(
            "kindergarten.escort.added.v1",
            {
                "child_iin_masked": "********2034",
                "child_first_name": "Әлихан",
                "kindergarten_id": "kg-1",
                "kindergarten_name": "Балапан",
                "parent_account_id": h.PARENT,
                "escort_iin_masked": "********1111",
                "escort_full_name": "Дана Омарова",
                "escort_phone": "+77010000009",
            },
        )
    )
    [sent] = run.sms.sent
    assert sent.to == "+77010000009" and sent.body.startswith("Дана Омарова, вы можете")


def test_an_account_not_yet_copied_is_waited_for_and_nothing_is_stored(plain_db, run):
    env = envelope(
        "kindergarten.referral.declined.v1",
        about(referral_id="r-1", kindergarten_id="kg-1", kindergarten_name="Балапан", group_id="g"),
    )
    with pytest.raises(notifications.AccountNotSynced):
        run(env)
    assert plain_db[store.MESSAGES].count_documents({}) == 0
    assert plain_db[consumer.INBOX].count_documents({}) == 0  # it will be handled again


def test_a_payload_that_breaks_the_contract_is_rejected_at_once(plain_db, h, run):
    h.add_account(plain_db)
    env = envelope("kindergarten.attendance.marked.v1", about(direction="sideways"))
    with pytest.raises(Reject) as err:
        run(env)
    assert "direction" in str(err.value) and "sideways" not in str(err.value)


def test_consent_withdrawn_then_given_newest_event_wins(plain_db, h):
    h.add_account(plain_db)

    def consent(given, at):
        env = Envelope(
            str(uuid.uuid4()),
            "identity.consent.changed",
            1,
            at,
            "identity",
            {"account_id": h.PARENT, "consent": "notifications", "given": given},
        )
        binding = Binding.on("c", [], notifications.on_consent_changed)
        consumer.handle_once(plain_db, "c", binding, env)

    consent(False, NOON)
    consent(True, NOON - dt.timedelta(minutes=1))  # older, arrives late: ignored
    assert plain_db[store.PREFERENCES].find_one({"_id": h.PARENT})["consent"] is False
    consent(True, NOON + dt.timedelta(minutes=1))
    assert plain_db[store.PREFERENCES].find_one({"_id": h.PARENT})["consent"] is True


def test_the_worker_consumes_every_route(plain_db, make_deps):
    bindings = notification_bindings(make_deps(plain_db))
    names = [b.name for b in bindings]
    assert len(names) == len(set(names))
    bound = {key for b in bindings for key in b.events}
    for event in events.CONSUMED:
        assert (event.exchange, event.routing_key) in bound, event.routing_key
    assert ("kindergarten.internal", "kindergarten.escort.added.v1") in bound
    # All routed events share one queue: a handful of queues, not one per event kind.
    assert len(bindings) == 4 and "notifications" in names


def test_the_worker_adds_the_journal_and_its_periodic_tasks(plain_db, make_deps):
    deps = make_deps(plain_db)
    every = bindings(deps)
    names = [b.name for b in every]
    assert len(names) == len(set(names))
    bound = {key for b in every for key in b.events}
    for event in journal.CONSUMED:
        assert (event.exchange, event.routing_key) in bound, event.routing_key
    assert {"journal-homework", "journal-grades"} <= set(names)
    tasks = {p.name for p in periodic(deps)}
    assert tasks == {"delivery-sweep", "status-poll", "grades-digest", "attachment-orphans"}
