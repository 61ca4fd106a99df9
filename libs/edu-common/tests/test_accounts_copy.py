"""A service's copy of identity's accounts: newest revision wins, over the real broker too."""

from __future__ import annotations

import threading

import pytest

from edu_common import accounts, consumer, mongo, outbox
from edu_common.relay import Relay, make_publisher


def state(revision: int, **kw) -> dict:
    return {
        "account_id": "acc-1",
        "revision": revision,
        "iin": "950423451048",
        "full_name": "Серикова Айгерим",
        "roles": ["citizen"],
        "organization_id": None,
        "phone": "+77010000001",
        "email": "a@example.kz",
        "language": "kk",
        **kw,
    }


def deliver(db, data: dict) -> bool:
    sub = accounts.binding()
    return consumer.handle_once(db, "svc.accounts", sub, accounts.ACCOUNT_CHANGED.make(data))


def test_the_newest_revision_wins_whatever_the_order(mongo_db):
    mongo.ensure_indexes(mongo_db, [*consumer.INDEXES, *accounts.INDEXES])
    assert deliver(mongo_db, state(2, roles=["citizen", "kindergarten_staff"]))
    assert deliver(mongo_db, state(1))  # late and stale: handled, changes nothing
    copy = accounts.get(mongo_db, "acc-1")
    assert copy["revision"] == 2 and copy["roles"] == ["citizen", "kindergarten_staff"]
    assert deliver(mongo_db, state(3, phone="+77010000009"))
    assert accounts.get(mongo_db, "acc-1")["phone"] == "+77010000009"
    assert [a["_id"] for a in accounts.with_iin(mongo_db, "950423451048")] == ["acc-1"]


def test_a_disabled_account_is_not_found(mongo_db):
    deliver(mongo_db, state(1, active=False))
    assert accounts.get(mongo_db, "acc-1") is None
    assert accounts.with_iin(mongo_db, "950423451048") == []


def test_a_redelivered_event_is_handled_once(mongo_db):
    envelope = accounts.ACCOUNT_CHANGED.make(state(1))
    sub = accounts.binding()
    assert consumer.handle_once(mongo_db, "svc.accounts", sub, envelope)
    assert not consumer.handle_once(mongo_db, "svc.accounts", sub, envelope)


@pytest.mark.integration
def test_the_copy_follows_identity_over_the_broker(mongo_client, amqp_url, wait_until):
    identity_db = mongo_client["identity_copy_src"]
    service_db = mongo_client["service_copy_dst"]
    for db in (identity_db, service_db):
        mongo.ensure_indexes(db, [*outbox.INDEXES, *consumer.INDEXES, *accounts.INDEXES])
    stop = threading.Event()
    publisher = make_publisher(amqp_url, [accounts.ACCOUNT_CHANGED.exchange])
    relay = Relay(identity_db, publisher, idle_wait=0.05)
    worker = consumer.Worker("svc", service_db, amqp_url, [accounts.binding()])
    threads = [
        threading.Thread(target=relay.run, args=(stop,), daemon=True),
        threading.Thread(target=worker.run, daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        assert worker.ready.wait(20), "consumer did not start"
        for revision in (1, 2):
            mongo.in_transaction(
                identity_db,
                lambda s, r=revision: outbox.emit(
                    identity_db, s, accounts.ACCOUNT_CHANGED, state(r, language="ru")
                ),
            )
        wait_until(
            lambda: (accounts.get(service_db, "acc-1") or {}).get("revision") == 2,
            message="the copy at revision 2",
        )
    finally:
        stop.set()
        worker.should_stop = True
        for t in threads:
            t.join(timeout=10)
        publisher.stop()
        mongo_client.drop_database("identity_copy_src")
        mongo_client.drop_database("service_copy_dst")
