"""Through the whole service: the kindergarten enrols a child from the queue, and the parent who
applied is its first escort at once (enrolment adds them in its own transaction)."""

import datetime as dt

import pytest

pytestmark = pytest.mark.integration


def test_enrolment_makes_the_applying_parent_the_first_escort(world):
    parent = world.parent(dt.date(2023, 6, 1))
    application = world.apply(parent)
    world.publish(1)
    referral = world.referral_of(application["id"])
    path = f"/referrals/{referral['_id']}"
    assert world.client.post(f"{path}/confirm", headers=world.as_parent(parent)).status_code == 200
    child = parent.children[0].iin
    # Before enrolment there is no child to see.
    r = world.client.get(f"/children/{child}/escorts", headers=world.as_parent(parent))
    assert r.status_code == 404
    assert world.client.post(f"{path}/enroll", headers=world.staff()).status_code == 200
    r = world.client.get(f"/children/{child}/escorts", headers=world.as_parent(parent))
    assert r.status_code == 200, r.json
    [escort] = r.json["items"]
    assert escort["iin"] == parent.iin and escort["is_applying_parent"] is True
    r = world.client.get("/me/escorted-children", headers=world.as_parent(parent))
    assert [c["child_iin"] for c in r.json["items"]] == [child]
    assert r.json["items"][0]["is_applying_parent"] is True
