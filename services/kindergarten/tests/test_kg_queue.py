"""The queue over HTTP: who may apply, numbers that stay current, categories, who sees what."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from edu_common import accounts
from kindergarten import store
from kindergarten.usecases import applications

from .conftest import DISTRICT, KG, KG_OTHER, OTHER_DISTRICT

pytestmark = pytest.mark.integration
BORN = dt.date(2023, 5, 17)


def test_a_parent_applies_and_sees_a_current_number(world):
    a, b, c = world.parent(BORN), world.parent(BORN), world.parent(BORN)
    first = world.apply(a)
    assert first["status"] == "queued" and first["queue_number"] == 1
    world.clock.advance(minutes=1)
    second = world.apply(b)
    world.clock.advance(minutes=1)
    third = world.apply(c)
    assert (second["queue_number"], third["queue_number"]) == (2, 3)
    registered = world.events("kindergarten.application.registered.v1")
    assert [e["queue_number"] for e in registered] == [1, 2, 3]
    assert all(e["child_iin_masked"].startswith("********") for e in registered)
    assert a.children[0].iin not in str(registered)

    resp = world.client.delete(f"/applications/{first['id']}", headers=world.as_parent(a))
    assert resp.status_code == 200 and resp.json["status"] == "closed"
    assert resp.json["queue_number"] is None
    assert world.number(b, second["id"]) == 1
    assert world.number(c, third["id"]) == 2
    closed = world.events("kindergarten.application.closed.v1")
    assert [e["reason"] for e in closed] == ["withdrawn"]
    # Withdrawn: the child may apply again, at the end of the queue.
    again = world.apply(a)
    assert again["queue_number"] == 3


def test_numbers_are_per_district_birth_year_and_category(world):
    older, younger, elsewhere = (
        world.parent(dt.date(2022, 3, 1)),
        world.parent(BORN),
        world.parent(BORN),
    )
    assert world.apply(older)["queue_number"] == 1
    assert world.apply(younger)["queue_number"] == 1
    assert (
        world.apply(elsewhere, district_id=OTHER_DISTRICT, kindergarten_ids=[KG_OTHER])[
            "queue_number"
        ]
        == 1
    )


def test_one_active_application_per_child(world):
    a = world.parent(BORN)
    world.apply(a)
    resp = world.apply(a, expect=409)
    assert resp["code"] == "application_exists"


def test_only_a_parent_listed_in_the_registry_may_apply(world):
    a, b = world.parent(BORN), world.parent(BORN)
    payload = {
        "child_iin": b.children[0].iin,
        "district_id": DISTRICT,
        "kindergarten_ids": [KG],
        "language": "ru",
    }
    resp = world.client.post("/applications", json=payload, headers=world.as_parent(a))
    assert resp.status_code == 403 and resp.json["code"] == "not_a_parent"


def test_the_child_must_be_under_six(world):
    a = world.parent(dt.date(2020, 3, 2), dt.date(2020, 3, 3))
    assert world.apply(a, 0, expect=422)["code"] == "child_too_old"  # six today
    assert world.apply(a, 1)["queue_number"] == 1  # six tomorrow


def test_bad_input_names_the_field(world):
    a = world.parent(BORN)
    h = world.as_parent(a)
    resp = world.client.post(
        "/applications",
        json={"child_iin": "12", "district_id": DISTRICT, "kindergarten_ids": [], "language": "en"},
        headers=h,
    )
    assert resp.status_code == 422
    names = {p["name"] for p in resp.json["invalid_params"]}
    assert {"child_iin", "language", "kindergarten_ids"} <= names
    too_many = world.apply(a, expect=422, kindergarten_ids=["a", "b", "c", "d", "e"])
    assert too_many["invalid_params"][0]["name"] == "kindergarten_ids"
    other = world.apply(a, expect=422, kindergarten_ids=[KG_OTHER])
    assert other["code"] == "kindergarten_not_in_district"
    assert world.apply(a, expect=422, category="priority", category_reason="")["code"] == (
        "category_reason_required"
    )
    bad_checksum = a.children[0].iin[:-1] + str((int(a.children[0].iin[-1]) + 1) % 10)
    resp = world.client.post(
        "/applications",
        json={
            "child_iin": bad_checksum,
            "district_id": DISTRICT,
            "kindergarten_ids": [KG],
            "language": "ru",
        },
        headers=h,
    )
    assert resp.status_code == 422 and resp.json["invalid_params"][0]["name"] == "child_iin"


def test_who_may_see_what(world):
    a, b = world.parent(BORN), world.parent(BORN)
    app = world.apply(a)
    path = f"/applications/{app['id']}"
    assert world.client.get(path).status_code == 401
    assert world.client.get(path, headers=world.as_parent(b)).status_code == 404
    assert world.client.delete(path, headers=world.as_parent(b)).status_code == 404
    assert world.client.get(path, headers=world.staff()).status_code == 404
    assert world.client.get(path, headers=world.operator(OTHER_DISTRICT)).status_code == 404
    assert world.client.get(path, headers=world.operator()).status_code == 200
    assert world.client.get(path, headers=world.admin()).status_code == 200
    mine = world.client.get("/applications", headers=world.as_parent(b)).json
    assert mine["items"] == []
    listed = world.client.get(
        "/applications", query_string={"district_id": DISTRICT}, headers=world.as_parent(b)
    )
    assert listed.status_code == 403
    listed = world.client.get(
        "/applications", query_string={"district_id": DISTRICT}, headers=world.operator()
    )
    assert [x["id"] for x in listed.json["items"]] == [app["id"]]


def test_an_account_not_yet_copied_is_asked_to_retry(world):
    a = world.parent(BORN)
    world.db[accounts.ACCOUNTS].delete_one({"_id": a.account})
    resp = world.client.post(
        "/applications",
        json={
            "child_iin": a.children[0].iin,
            "district_id": DISTRICT,
            "kindergarten_ids": [KG],
            "language": "ru",
        },
        headers=world.as_parent(a),
    )
    assert resp.status_code == 409 and resp.json["code"] == "account_not_synced"
    assert resp.headers["Retry-After"] == "2"


def test_applying_is_idempotent_with_a_key(world):
    a = world.parent(BORN)
    payload = {
        "child_iin": a.children[0].iin,
        "district_id": DISTRICT,
        "kindergarten_ids": [KG],
        "language": "ru",
    }
    h = {**world.as_parent(a), "Idempotency-Key": "apply-0001"}
    first = world.client.post("/applications", json=payload, headers=h)
    again = world.client.post("/applications", json=payload, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert world.db[store.APPLICATIONS].count_documents({}) == 1


def test_a_category_waits_as_general_until_confirmed_then_keeps_its_time(world):
    early, g1, g2, p_late = (world.parent(BORN) for _ in range(4))
    pending = world.apply(early, category="priority")
    assert pending["queue_category"] == "general" and pending["category_status"] == "pending"
    world.clock.advance(minutes=1)
    world.apply(g1)
    world.clock.advance(minutes=1)
    second_general = world.apply(g2)
    world.clock.advance(minutes=1)
    # Confirmed at once, but registered later: it must sit behind `early` in the priority queue.
    late = world.apply(p_late, category="priority")
    decide = world.client.post(
        f"/applications/{late['id']}/category-decision",
        json={"decision": "confirmed", "reason": "ok"},
        headers=world.operator(),
    )
    assert decide.status_code == 200 and decide.json["queue_category"] == "priority"
    assert decide.json["queue_number"] == 1
    assert world.number(g2, second_general["id"]) == 3  # still counts the pending one
    world.clock.advance(days=1)
    decide = world.client.post(
        f"/applications/{pending['id']}/category-decision",
        json={"decision": "confirmed"},
        headers=world.operator(),
    )
    assert decide.json["queue_number"] == 1  # the original time puts it first
    assert world.number(p_late, late["id"]) == 2
    assert world.number(g2, second_general["id"]) == 2  # one fewer ahead in general
    decided = world.events("kindergarten.application.category_decided.v1")
    assert [(e["decision"], e["queue_number"]) for e in decided] == [
        ("confirmed", 1),
        ("confirmed", 1),
    ]


def test_a_rejected_category_stays_general_with_its_time(world):
    first, second = world.parent(BORN), world.parent(BORN)
    asked = world.apply(first, category="extraordinary")
    world.clock.advance(minutes=1)
    other = world.apply(second)
    decide = world.client.post(
        f"/applications/{asked['id']}/category-decision",
        json={"decision": "rejected", "reason": "нет справки"},
        headers=world.operator(),
    )
    assert decide.status_code == 200
    assert decide.json["queue_category"] == "general" and decide.json["queue_number"] == 1
    assert world.number(second, other["id"]) == 2
    # A decision is made once; other districts' operators and parents cannot make it.
    again = world.client.post(
        f"/applications/{asked['id']}/category-decision",
        json={"decision": "confirmed"},
        headers=world.operator(),
    )
    assert again.status_code == 409
    stranger = world.client.post(
        f"/applications/{other['id']}/category-decision",
        json={"decision": "confirmed"},
        headers=world.operator(OTHER_DISTRICT),
    )
    assert stranger.status_code == 404
    parent = world.client.post(
        f"/applications/{other['id']}/category-decision",
        json={"decision": "confirmed"},
        headers=world.as_parent(second),
    )
    assert parent.status_code == 403


def test_twins_form_one_batch(world):
    family = world.parent(BORN, BORN, dt.date(2023, 6, 20))
    one, two, later = (world.apply(family, i) for i in range(3))
    assert one["batch_id"] is None  # alone when it was registered
    got = {
        x["id"]: x
        for x in world.client.get("/applications", headers=world.as_parent(family)).json["items"]
    }
    assert got[one["id"]]["batch_id"] == got[two["id"]]["batch_id"] is not None
    assert got[later["id"]]["batch_id"] is None  # born more than a month later


def test_parents_are_told_when_the_number_moved_by_more_than_the_step(world):
    world.deps.settings = dataclasses.replace(world.deps.settings, queue_number_notify_step=1)
    parents = [world.parent(BORN) for _ in range(5)]
    apps = []
    for p in parents:
        apps.append(world.apply(p))
        world.clock.advance(minutes=1)
    assert applications.notify_number_changes(world.deps) == 0  # nobody moved yet
    world.client.delete(f"/applications/{apps[0]['id']}", headers=world.as_parent(parents[0]))
    assert applications.notify_number_changes(world.deps) == 0  # moved by 1: not more than 1
    world.client.delete(f"/applications/{apps[1]['id']}", headers=world.as_parent(parents[1]))
    assert applications.notify_number_changes(world.deps) == 3  # 3->1, 4->2, 5->3
    moved = world.events("kindergarten.application.queue_number_changed.v1")
    assert sorted((e["previous_queue_number"], e["queue_number"]) for e in moved) == [
        (3, 1),
        (4, 2),
        (5, 3),
    ]
    assert applications.notify_number_changes(world.deps) == 0  # told once
