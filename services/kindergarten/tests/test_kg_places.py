"""Places and referrals: the offer order, batches, deadlines in business days, lapses and the
stop list, open places, enrolment."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kindergarten import store
from kindergarten.usecases import applications, places, referrals

from .conftest import GROUP, KG, KG2

pytestmark = pytest.mark.integration
BORN = dt.date(2023, 5, 17)
ALMATY = ZoneInfo("Asia/Almaty")  # the settings' TIMEZONE


def _queue(world, n, **body):
    out = []
    for _ in range(n):
        parent = world.parent(BORN)
        out.append((parent, world.apply(parent, **body)))
        world.clock.advance(minutes=1)
    return out


def _confirm_category(world, app):
    resp = world.client.post(
        f"/applications/{app['id']}/category-decision",
        json={"decision": "confirmed"},
        headers=world.operator(),
    )
    assert resp.status_code == 200


def _offered_order(world) -> list[str]:
    refs = world.db[store.REFERRALS].find({}).sort("offered_at", 1)
    return [r["application_id"] for r in refs]


def test_a_place_goes_at_once_to_the_first_eligible(world):
    # Not eligible: another kindergarten only, another language.
    world.apply(world.parent(BORN), kindergarten_ids=[KG2])
    world.clock.advance(minutes=1)
    world.apply(world.parent(BORN), language="kk")
    world.clock.advance(minutes=1)
    (p1, a1), (p2, a2) = _queue(world, 2, kindergarten_ids=[KG2, KG])
    published = world.publish(1)
    assert published["offered"] == 1 and published["places"][0]["status"] == "offered"
    ref = world.referral_of(a1["id"])
    assert ref["status"] == "offered" and world.referral_of(a2["id"]) is None
    got = world.client.get(f"/applications/{a1['id']}", headers=world.as_parent(p1)).json
    assert got["status"] == "offered" and got["queue_number"] == 3  # still in the queue
    offered = world.events("kindergarten.referral.offered.v1")
    assert [e["application_id"] for e in offered] == [a1["id"]]
    assert offered[0]["kindergarten_name"] == "Балапан"
    mine = world.client.get("/referrals", headers=world.as_parent(p1)).json["items"]
    assert [r["id"] for r in mine] == [ref["_id"]]
    assert world.client.get("/referrals", headers=world.as_parent(p2)).json["items"] == []
    assert (
        world.client.get(f"/referrals/{ref['_id']}", headers=world.as_parent(p2)).status_code == 404
    )


def test_the_1_to_3_cycle_over_8_places_after_the_extraordinary(world):
    extraordinary = _queue(world, 1, category="extraordinary")
    priority = _queue(world, 3, category="priority")
    general = _queue(world, 8)
    for _, app in extraordinary + priority:
        _confirm_category(world, app)
    world.publish(9)
    cat = {a["id"]: "E" for _, a in extraordinary}
    cat.update({a["id"]: "P" for _, a in priority})
    cat.update({a["id"]: "G" for _, a in general})
    assert "".join(cat[x] for x in _offered_order(world)) == "EPGGGPGGG"
    # Within each queue, strictly in order of application.
    order = _offered_order(world)
    assert [x for x in order if cat[x] == "G"] == [a["id"] for _, a in general[:6]]


def test_an_empty_queue_passes_its_turn(world):
    general = _queue(world, 3)
    priority = _queue(world, 1, category="priority")
    _confirm_category(world, priority[0][1])
    world.publish(4)
    cat = {a["id"]: "G" for _, a in general}
    cat[priority[0][1]["id"]] = "P"
    # P first; then general; and once general is empty nobody is left.
    assert "".join(cat[x] for x in _offered_order(world)) == "PGGG"
    # The cycle goes on where it stopped, for the district and birth year.
    more_p = _queue(world, 1, category="priority")
    _confirm_category(world, more_p[0][1])
    more_g = _queue(world, 1)
    world.publish(1)
    assert _offered_order(world)[-1] == more_p[0][1]["id"]
    world.publish(1)
    assert _offered_order(world)[-1] == more_g[0][1]["id"]


def test_a_twin_batch_with_one_place_left_is_passed_over_and_keeps_its_number(world):
    twins = world.parent(BORN, BORN)
    one, two = world.apply(twins, 0), world.apply(twins, 1)
    world.clock.advance(minutes=1)
    ((_single_parent, single),) = _queue(world, 1)
    world.publish(1)
    # One place: the twins cannot both have it, so the next child gets it.
    assert _offered_order(world) == [single["id"]]
    assert world.number(twins, one["id"]) == 1 and world.number(twins, two["id"]) == 2
    # Two places: offered together.
    world.publish(2)
    assert set(_offered_order(world)[1:]) == {one["id"], two["id"]}


def test_the_confirm_deadline_skips_a_public_holiday(world):
    # Tuesday 15 December 2026; the 16th is Independence Day (per the holidays library).
    world.clock.now = dt.datetime(2026, 12, 15, 10, 0, tzinfo=ALMATY)
    parent = world.parent(BORN)
    app = world.apply(parent)
    world.publish(1)
    ref = world.client.get("/referrals", headers=world.as_parent(parent)).json["items"][0]
    confirm_by = dt.datetime.fromisoformat(ref["confirm_by"]).astimezone(ALMATY)
    assert confirm_by.date() == dt.date(2026, 12, 18) and confirm_by.hour == 23
    # Confirmed on Friday the 18th: 5 business days to enrol end on Friday the 25th.
    world.clock.now = dt.datetime(2026, 12, 18, 20, 0, tzinfo=ALMATY)
    done = world.client.post(f"/referrals/{ref['id']}/confirm", headers=world.as_parent(parent))
    assert done.status_code == 200 and done.json["status"] == "confirmed"
    enrol_by = dt.datetime.fromisoformat(done.json["enrol_by"]).astimezone(ALMATY)
    assert enrol_by.date() == dt.date(2026, 12, 25)
    assert world.events("kindergarten.referral.confirmed.v1")[0]["application_id"] == app["id"]


def test_a_lapsed_referral_goes_to_the_next_and_the_child_to_the_stop_list(world):
    (p1, a1), (_p2, a2) = _queue(world, 2)
    world.publish(1)
    ref = world.referral_of(a1["id"])
    world.clock.advance(days=1)
    assert referrals.sweep_reminders(world.deps) == 0  # Tuesday: the deadline is Wednesday night
    world.clock.advance(days=1)
    assert referrals.sweep_reminders(world.deps) == 1  # within a day now
    assert referrals.sweep_reminders(world.deps) == 0  # once
    world.clock.now = ref["confirm_by"] + dt.timedelta(seconds=1)
    assert referrals.sweep_lapses(world.deps) == 1
    assert world.db[store.REFERRALS].find_one({"_id": ref["_id"]})["status"] == "expired"
    assert world.referral_of(a2["id"]) is not None  # the place went to the next in line
    first = world.client.get(f"/applications/{a1['id']}", headers=world.as_parent(p1)).json
    assert first["status"] == "queued" and first["queue_number"] == 1
    expired = world.events("kindergarten.referral.expired.v1")[0]
    until = dt.datetime.fromisoformat(expired["stop_list_until"])
    assert until == world.clock.now + dt.timedelta(days=10)
    # On the stop list: passed over although first in line.
    ((_p3, a3),) = _queue(world, 1)
    world.publish(1)
    assert world.referral_of(a1["id"]) is None and world.referral_of(a3["id"]) is not None
    # After the stop list the child gets offers again.
    world.clock.now = until + dt.timedelta(seconds=1)
    world.publish(1)
    assert world.referral_of(a1["id"]) is not None
    assert (
        world.client.post(
            f"/referrals/{ref['_id']}/confirm", headers=world.as_parent(p1)
        ).status_code
        == 409
    )


def test_an_unused_confirmed_referral_lapses_too(world):
    ((p1, a1),) = _queue(world, 1)
    world.publish(1)
    ref = world.referral_of(a1["id"])
    world.client.post(f"/referrals/{ref['_id']}/confirm", headers=world.as_parent(p1))
    ref = world.referral_of(a1["id"])
    world.clock.now = ref["enrol_by"] - dt.timedelta(hours=1)
    assert referrals.sweep_lapses(world.deps) == 0
    world.clock.now = ref["enrol_by"] + dt.timedelta(seconds=1)
    assert referrals.sweep_lapses(world.deps) == 1


def test_a_decline_removes_the_child_from_the_queue(world):
    (p1, a1), (p2, a2) = _queue(world, 2)
    world.publish(1)
    ref = world.referral_of(a1["id"])
    assert (
        world.client.post(
            f"/referrals/{ref['_id']}/decline", headers=world.as_parent(p2)
        ).status_code
        == 404
    )
    resp = world.client.post(f"/referrals/{ref['_id']}/decline", headers=world.as_parent(p1))
    assert resp.status_code == 200 and resp.json["status"] == "declined"
    got = world.client.get(f"/applications/{a1['id']}", headers=world.as_parent(p1)).json
    assert got["status"] == "closed" and got["closed_reason"] == "declined"
    assert world.number(p2, a2["id"]) == 1
    assert world.referral_of(a2["id"]) is not None
    assert [e["reason"] for e in world.events("kindergarten.application.closed.v1")] == ["declined"]
    assert len(world.events("kindergarten.referral.declined.v1")) == 1


def test_extend_once_by_up_to_30_days_then_enrol(world):
    (p1, a1), (p2, _a2) = _queue(world, 2)
    world.publish(1)
    ref = world.referral_of(a1["id"])
    path = f"/referrals/{ref['_id']}"
    staff = world.staff()
    assert world.client.post(f"{path}/enroll", headers=staff).status_code == 409  # unconfirmed
    world.client.post(f"{path}/confirm", headers=world.as_parent(p1))
    before = world.referral_of(a1["id"])["enrol_by"]
    bad = world.client.post(f"{path}/extend", json={"days": 31}, headers=world.as_parent(p1))
    assert bad.status_code == 422 and bad.json["invalid_params"][0]["name"] == "days"
    ok = world.client.post(f"{path}/extend", json={"days": 30}, headers=world.as_parent(p1))
    assert ok.status_code == 200
    assert dt.datetime.fromisoformat(ok.json["enrol_by"]) == before + dt.timedelta(days=30)
    again = world.client.post(f"{path}/extend", json={"days": 1}, headers=world.as_parent(p1))
    assert again.status_code == 409 and again.json["code"] == "already_extended"
    # Only this kindergarten's staff enrol.
    assert world.client.post(f"{path}/enroll", headers=world.staff(KG2)).status_code == 404
    assert world.client.post(f"{path}/enroll", headers=world.as_parent(p1)).status_code == 403
    done = world.client.post(f"{path}/enroll", headers=staff)
    assert done.status_code == 200 and done.json["status"] == "enrolled"
    enrolment = world.db[store.ENROLMENTS].find_one({"_id": p1.children[0].iin})
    assert enrolment["active"] and enrolment["group_id"] == GROUP
    assert enrolment["parent_account_id"] == p1.account and enrolment["kindergarten_id"] == KG
    got = world.client.get(f"/applications/{a1['id']}", headers=world.as_parent(p1)).json
    assert got["closed_reason"] == "enrolled"
    assert world.number(p2, _a2["id"]) == 1
    assert len(world.events("kindergarten.child.enrolled.v1")) == 1
    assert world.db[store.PLACES].find_one({"_id": ref["place_id"]})["status"] == "taken"


def test_a_place_nobody_took_in_a_day_is_open_to_any_queued_child(world):
    kk_parent = world.parent(BORN)
    kk_app = world.apply(kk_parent, language="kk", kindergarten_ids=[KG2])
    published = world.publish(1)
    assert published["offered"] == 0
    query = {"district_id": published["places"][0]["district_id"]}
    assert (
        world.client.get("/places", query_string=query, headers=world.as_parent(kk_parent)).json[
            "items"
        ]
        == []
    )
    world.clock.advance(days=1)
    listed = world.client.get(
        "/places", query_string=query, headers=world.as_parent(kk_parent)
    ).json
    assert len(listed["items"]) == 1
    place_id = listed["items"][0]["id"]
    detail = world.client.get(f"/kindergartens/{KG}", headers=world.as_parent(kk_parent)).json
    assert detail["open_places"] == 1
    stranger = world.parent(BORN)
    resp = world.client.post(
        f"/places/{place_id}/claim",
        json={"application_id": kk_app["id"]},
        headers=world.as_parent(stranger),
    )
    assert resp.status_code == 404
    resp = world.client.post(
        f"/places/{place_id}/claim",
        json={"application_id": kk_app["id"]},
        headers=world.as_parent(kk_parent),
    )
    assert resp.status_code == 201 and resp.json["status"] == "confirmed"
    assert resp.json["via"] == "claim"
    again = world.client.post(
        f"/places/{place_id}/claim",
        json={"application_id": kk_app["id"]},
        headers=world.as_parent(kk_parent),
    )
    assert again.status_code == 409


def test_no_places_are_published_in_august_and_staff_publish_only_their_own(world):
    world.clock.now = dt.datetime(2026, 8, 1, 0, 30, tzinfo=ALMATY)
    assert world.publish(1, expect=409)["code"] == "publishing_frozen"
    world.clock.now = dt.datetime(2026, 9, 1, 0, 30, tzinfo=ALMATY)
    world.publish(1)
    resp = world.client.post(
        f"/kindergartens/{KG}/groups/{GROUP}/places",
        json={"count": 1},
        headers=world.staff(KG2),
    )
    assert resp.status_code == 403
    resp = world.client.post(
        f"/kindergartens/{KG}/groups/{GROUP}/places",
        json={"count": 25},
        headers=world.staff(KG),
    )
    assert resp.status_code == 409 and resp.json["code"] == "capacity_exceeded"


def test_the_yearly_resort_closes_applications_of_children_going_to_school(world):
    old = world.parent(dt.date(2020, 8, 31))
    young = world.parent(BORN)
    a_old, a_young = world.apply(old), world.apply(young)
    assert applications.resort(world.deps) == 0  # not the day
    world.clock.now = dt.datetime(2026, 6, 30, 9, 0, tzinfo=ALMATY)
    assert applications.resort(world.deps) == 1
    assert applications.resort(world.deps) == 0  # once a year
    got = world.client.get(f"/applications/{a_old['id']}", headers=world.as_parent(old)).json
    assert got["closed_reason"] == "aged_out"
    assert world.number(young, a_young["id"]) == 1


def test_a_withdrawal_gives_the_offered_place_to_the_next(world):
    (p1, a1), (_p2, a2) = _queue(world, 2)
    world.publish(1)
    world.client.delete(f"/applications/{a1['id']}", headers=world.as_parent(p1))
    assert world.referral_of(a2["id"]) is not None
    assert places.sweep_vacant(world.deps) == 0


def test_a_batch_across_two_queues_is_offered_together_once(world):
    twins = world.parent(BORN, BORN)
    priority = world.apply(twins, 0, category="priority")
    general = world.apply(twins, 1)
    _confirm_category(world, priority)
    published = world.publish(3)
    assert published["offered"] == 2  # the twins; nobody else is waiting
    assert set(_offered_order(world)) == {priority["id"], general["id"]}
