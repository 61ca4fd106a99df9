"""The HTTP API: preferences, history, dead letters and the delivery-report webhook."""

from __future__ import annotations

import json

import pytest

from edu_common.mongo import in_transaction
from sms_notify import store
from sms_notify.adapters.channels import PermanentError
from sms_notify.usecases import delivery, delivery_reports, outgoing

ADMIN = "acc-admin"


@pytest.fixture
def parent(h, db, minter):
    h.add_account(db)
    return minter.headers(h.PARENT)


@pytest.fixture
def admin(minter):
    return minter.headers(ADMIN, roles=["admin"])


def problem(r, status, code):
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    assert r.json["code"] == code
    return r.json


def message(deps, clock, *, to="+77010000001", account_id="acc-parent", kind="queue", event=None):
    return in_transaction(
        deps.db,
        lambda s: outgoing.enqueue(
            deps, s, event_id=event or f"ev-{clock().isoformat()}-{to}", kind=kind, to=to,
            channel="sms", language="ru", template="kg_queue_changed",
            params={"child_first_name": "Әлихан", "child_iin_masked": "********2034",
                    "queue_number": 3, "previous_queue_number": 9},
            account_id=account_id, now=clock(),
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/me/preferences"),
        ("put", "/me/preferences"),
        ("get", "/me/messages"),
        ("get", "/messages?to=%2B77010000001"),
        ("get", "/dead-letters"),
        ("post", "/dead-letters/x/resend"),
    ],
)
def test_every_endpoint_wants_a_token(client, method, path):
    problem(getattr(client, method)(path, json={}), 401, "unauthorized")


def test_admin_endpoints_refuse_citizens(client, parent):
    problem(client.get("/messages?to=%2B77010000001", headers=parent), 403, "forbidden")
    problem(client.get("/dead-letters", headers=parent), 403, "forbidden")
    problem(client.post("/dead-letters/x/resend", headers=parent), 403, "forbidden")


def test_an_account_not_copied_yet_is_asked_to_retry(client, minter):
    r = client.get("/me/preferences", headers=minter.headers("acc-new"))
    problem(r, 409, "account_not_synced")
    assert r.headers["Retry-After"] == "2"


def test_preferences_have_defaults_and_change_field_by_field(client, parent):
    r = client.get("/me/preferences", headers=parent)
    assert r.status_code == 200
    assert r.json["language"] == "kk" and r.json["channels"] == ["sms"]
    assert r.json["quiet_hours"] == {"start": "22:00", "end": "08:00", "time_zone": "Asia/Almaty"}
    assert r.json["kinds"]["code"] is True and r.json["kinds"]["attendance"] is True
    r = client.put("/me/preferences", headers=parent, json={
        "language": "ru", "channels": ["email", "sms"], "kinds": {"attendance": False},
        "quiet_hours": {"start": "21:30", "end": "07:00"}})  # fmt: skip
    assert r.status_code == 200, r.json
    assert r.json["language"] == "ru" and r.json["channels"] == ["email", "sms"]
    assert r.json["kinds"]["attendance"] is False and r.json["kinds"]["queue"] is True
    assert r.json["quiet_hours"]["start"] == "21:30"
    r = client.put("/me/preferences", headers=parent, json={"quiet_hours": None})
    assert r.json["quiet_hours"] is None and r.json["language"] == "ru"
    assert client.get("/me/preferences", headers=parent).json["kinds"]["attendance"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "de"}, "language"),
        ({"channels": ["sms", "pigeon"]}, "channels.1"),
        ({"channels": []}, "channels"),
        ({"channels": ["sms", "sms"]}, "channels"),
        ({"kinds": {"gossip": False}}, "kinds"),
        ({"quiet_hours": {"start": "25:00", "end": "08:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "8"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "08:00", "time_zone": "Mars/Base"}},
         "quiet_hours.time_zone"),
    ],
)  # fmt: skip
def test_bad_preferences_name_the_field(client, parent, body, field):
    r = client.put("/me/preferences", headers=parent, json=body)
    found = problem(r, 422, "validation_failed")
    assert field in [p["name"] for p in found["invalid_params"]], found


@pytest.mark.parametrize("kind", ["code", "security"])
def test_codes_and_security_cannot_be_muted(client, parent, kind):
    r = client.put("/me/preferences", headers=parent, json={"kinds": {kind: False}})
    found = problem(r, 422, "kind_not_mutable")
    assert found["invalid_params"][0]["name"] == f"kinds.{kind}"
    assert (
        client.put("/me/preferences", headers=parent, json={"kinds": {kind: True}}).status_code
        == 200
    )


def test_my_messages_are_mine_newest_first_paginated_and_codes_masked(
    client, parent, db, clock, minter, h, deps
):
    ids = []
    for _ in range(3):
        ids.append(message(deps, clock).id)
        clock.advance(minutes=1)
    message(deps, clock, to="+77019999999", account_id="acc-other")  # someone else's
    code = store.new_message(
        event_id="code-1", kind="code", purpose="login", channel="sms", to=h.PARENT_PHONE,
        language="ru", subject=None, body=f"Код: {store.CODE_MASK}", secret={"code": "482913"},
        now=clock(), account_id=h.PARENT,
    )  # fmt: skip
    store.insert_once(db, code)
    r = client.get("/me/messages?limit=2", headers=parent)
    assert r.status_code == 200
    assert [m["id"] for m in r.json["items"]] == [code["_id"], ids[2]]
    assert "482913" not in r.get_data(as_text=True)
    assert r.json["items"][1]["status"] == "queued" and r.json["items"][1]["segments"] == 1
    r = client.get(f"/me/messages?limit=2&cursor={r.json['next_cursor']}", headers=parent)
    assert [m["id"] for m in r.json["items"]] == [ids[1], ids[0]]
    assert r.json["next_cursor"] is None
    problem(client.get("/me/messages?cursor=garbage", headers=parent), 400, "invalid_cursor")
    problem(client.get("/me/messages?limit=0", headers=parent), 422, "validation_failed")


def test_my_messages_are_those_of_my_account_never_of_my_phone_or_e_mail(
    client, db, clock, minter, h, deps
):
    """A recycled number's new owner, or someone who registered with another person's phone
    or e-mail, must not read what was sent to that address for its earlier owner."""
    earlier = message(deps, clock, to=h.PARENT_PHONE, account_id="acc-earlier-owner")
    escort_sms = message(deps, clock, to=h.PARENT_PHONE, account_id=None, event="ev-escort")
    code = store.new_message(
        event_id="code-2", kind="code", purpose="login", channel="email", to=h.PARENT_EMAIL,
        language="ru", subject="Код", body=f"Код: {store.CODE_MASK}", secret={"code": "771203"},
        now=clock(), account_id="acc-earlier-owner",
    )  # fmt: skip
    store.insert_once(db, code)
    h.add_account(db, "acc-new-owner", phone=h.PARENT_PHONE, email=h.PARENT_EMAIL)
    r = client.get("/me/messages", headers=minter.headers("acc-new-owner"))
    assert r.status_code == 200
    assert r.json["items"] == []
    mine = message(deps, clock, to=h.PARENT_PHONE, account_id="acc-new-owner", event="ev-mine")
    r = client.get("/me/messages", headers=minter.headers("acc-new-owner"))
    assert [m["id"] for m in r.json["items"]] == [mine.id]
    # The admin's look-up by address still finds every one of them.
    admin = minter.headers(ADMIN, roles=["admin"])
    r = client.get("/messages", query_string={"to": h.PARENT_PHONE}, headers=admin)
    assert {m["id"] for m in r.json["items"]} == {earlier.id, escort_sms.id, mine.id}


def test_admins_see_the_messages_to_a_phone(client, admin, db, clock, deps):
    message(deps, clock)
    message(deps, clock, to="+77019999999", account_id=None)
    r = client.get("/messages", query_string={"to": "+77019999999"}, headers=admin)
    assert [m["to"] for m in r.json["items"]] == ["+77019999999"]
    problem(client.get("/messages", headers=admin), 422, "validation_failed")


def test_a_dead_letter_is_listed_and_resent_exactly_once(client, admin, db, clock, channels, deps):
    failed = message(deps, clock)
    channels["sms"].failures.append(PermanentError("SMSC HTTP 400"))
    delivery.deliver(db, channels, failed.id, clock=clock)
    r = client.get("/dead-letters", headers=admin)
    [letter] = r.json["items"]
    assert letter["message_id"] == failed.id and letter["status"] == "open"
    key = {**admin, "Idempotency-Key": "resend-0001"}
    first = client.post(f"/dead-letters/{letter['id']}/resend", headers=key)
    assert first.status_code == 202
    replay = client.post(f"/dead-letters/{letter['id']}/resend", headers=key)
    assert replay.json == first.json and replay.headers["Idempotent-Replayed"] == "true"
    again = client.post(f"/dead-letters/{letter['id']}/resend", headers=admin)
    assert problem(again, 409, "already_resent")["message_id"] == first.json["message_id"]
    problem(client.post("/dead-letters/nope/resend", headers=admin), 404, "not_found")
    assert delivery.sweep(db, channels, clock=clock) == 1
    copy = store.find(db, first.json["message_id"])
    assert copy["status"] == store.SENT and copy["resent_from"] == failed.id
    assert db[store.MESSAGES].count_documents({"resent_from": failed.id}) == 1
    r = client.get("/dead-letters?status=resent", headers=admin)
    assert r.json["items"][0]["resent_message_id"] == copy["_id"]


def sign(body: bytes, secret: str) -> dict:
    return {
        "X-Signature": delivery_reports.signature(secret, body),
        "Content-Type": "application/json",
    }


def test_delivery_reports_need_the_signature_and_apply_once(client, db, clock, channels, deps):
    sent = message(deps, clock)
    delivery.deliver(db, channels, sent.id, clock=clock)
    body = json.dumps({"reports": [{"id": "smsc-1", "status": "1"},
                                   {"id": "unknown", "status": "DELIVRD"},
                                   {"id": "smsc-1", "status": "-1"}]}).encode()  # fmt: skip
    url = "/providers/smsc/delivery-reports"
    secret = deps.settings.report_secret
    problem(client.post(url, data=body, headers=sign(body, "wrong")), 401, "invalid_signature")
    problem(client.post(url, data=body, headers={"Content-Type": "application/json"}), 401,
            "invalid_signature")  # fmt: skip
    assert store.find(db, sent.id)["status"] == store.SENT
    r = client.post(url, data=body, headers=sign(body, secret))
    assert r.status_code == 200 and r.json == {"applied": 1, "unknown": 1, "pending": 1}
    assert store.find(db, sent.id)["status"] == store.DELIVERED
    assert client.post(url, data=body, headers=sign(body, secret)).json["applied"] == 1
    assert store.find(db, sent.id)["status"] == store.DELIVERED
    problem(client.post("/providers/nope/delivery-reports", data=body,
                        headers=sign(body, secret)), 404, "not_found")  # fmt: skip
    garbage = b"<html>"
    problem(client.post(url, data=garbage, headers=sign(garbage, secret)), 400, "malformed_json")
    wrong = json.dumps({"reports": [{"id": 5}]}).encode()
    found = problem(client.post(url, data=wrong, headers=sign(wrong, secret)), 422,
                    "validation_failed")  # fmt: skip
    assert {p["name"] for p in found["invalid_params"]} == {"reports.0.id", "reports.0.status"}


def test_the_openapi_document_lists_our_routes(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in (
        "/me/preferences",
        "/me/messages",
        "/messages",
        "/dead-letters",
        "/dead-letters/{letter_id}/resend",
        "/providers/{name}/delivery-reports",
    ):
        assert path in paths  # fmt: skip
