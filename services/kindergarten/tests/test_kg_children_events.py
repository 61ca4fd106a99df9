"""Over the real RabbitMQ: a new escort's account arrives from identity's event, the escort acts
at once, and the escort's SMS event and the attendance event leave through the outbox."""

from __future__ import annotations

import json
import threading

import pytest
from kombu import Connection, Queue, binding

from edu_common import accounts, bus, consumer, mongo, outbox
from edu_common.relay import Relay, make_publisher
from kindergarten import events
from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids


def test_escort_account_arrives_over_the_broker_and_events_leave(
    kids, mongo_client, amqp_url, wait_until
):
    neighbour = kids.people["neighbour"]
    kids.db[accounts.ACCOUNTS].delete_one({"_id": neighbour.account_id})  # not copied yet
    identity_db = mongo_client[f"{kids.db.name}_identity"]
    mongo.ensure_indexes(identity_db, [*outbox.INDEXES])
    stop = threading.Event()
    identity_pub = make_publisher(amqp_url, [accounts.ACCOUNT_CHANGED.exchange])
    kg_pub = make_publisher(amqp_url, events.EXCHANGES)
    relays = [
        Relay(identity_db, identity_pub, idle_wait=0.05),
        Relay(kids.db, kg_pub, idle_wait=0.05),
    ]
    worker = consumer.Worker("kindergarten", kids.db, amqp_url, [accounts.binding()])
    threads = [threading.Thread(target=r.run, args=(stop,), daemon=True) for r in relays]
    threads.append(threading.Thread(target=worker.run, daemon=True))
    watched = {
        events.ESCORT_ADDED.routing_key: events.ESCORT_ADDED.exchange,
        events.ATTENDANCE_MARKED.routing_key: events.ATTENDANCE_MARKED.exchange,
    }
    conn = Connection(amqp_url)
    queue = Queue(
        "test.kg-children",
        bindings=[binding(bus.topic_exchange(ex), routing_key=rk) for rk, ex in watched.items()],
        durable=False,
        auto_delete=True,
    )
    received: list[dict] = []
    try:
        inbox = conn.SimpleQueue(queue)
        for t in threads:
            t.start()
        assert worker.ready.wait(20), "consumer did not start"

        child = kids.enrol("Аружан")
        assert kids.add_escort(child, "neighbour").status_code == 201
        r = kids.client.get("/me/escorted-children", headers=kids.headers("neighbour"))
        assert r.status_code == 409 and r.json["code"] == "account_not_synced"

        state = {
            "account_id": neighbour.account_id,
            "revision": 1,
            "iin": neighbour.iin,
            "full_name": neighbour.full_name,
            "birth_date": "1979-09-09",
            "roles": ["citizen"],
            "organization_id": None,
            "phone": neighbour.phone,
            "email": "neighbour@example.kz",
            "language": "kk",
            "active": True,
            "notifications_consent": True,
            "verified": True,  # proven: only such an account acts as an escort
        }
        mongo.in_transaction(
            identity_db, lambda s: outbox.emit(identity_db, s, accounts.ACCOUNT_CHANGED, state)
        )
        wait_until(
            lambda: accounts.get(kids.db, neighbour.account_id),
            timeout=30,
            message="the escort's account in kindergarten's copy",
        )
        r = kids.client.get("/me/escorted-children", headers=kids.headers("neighbour"))
        assert [c["child_iin"] for c in r.json["items"]] == [child]
        assert kids.mark(child, "neighbour").status_code == 201

        def both_arrived():
            try:
                message = inbox.get(block=True, timeout=0.2)
            except inbox.Empty:
                message = None
            if message is not None:
                payload = message.payload
                received.append(payload if isinstance(payload, dict) else json.loads(payload))
                message.ack()
            return {m["type"] for m in received} >= {
                events.ESCORT_ADDED.type,
                events.ATTENDANCE_MARKED.type,
            }

        wait_until(both_arrived, timeout=30, message="escort.added and attendance.marked")
        added = next(m for m in received if m["type"] == events.ESCORT_ADDED.type)
        assert added["data"]["escort_phone"] == neighbour.phone
        assert added["data"]["escort_iin_masked"] == "********" + neighbour.iin[-4:]
        marked = next(m for m in received if m["type"] == events.ATTENDANCE_MARKED.type)
        assert marked["data"]["direction"] == "in" and marked["data"]["marked_by"] == "escort"
        assert child not in json.dumps(marked)
    finally:
        stop.set()
        worker.should_stop = True
        for t in threads:
            t.join(timeout=10)
        identity_pub.stop()
        kg_pub.stop()
        conn.release()
        mongo_client.drop_database(identity_db.name)
