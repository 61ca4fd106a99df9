"""The catalogue: who creates districts, kindergartens and groups; who sees staff."""

from __future__ import annotations

import pytest

from edu_common import accounts

from .conftest import DISTRICT, KG, KG2, OTHER_DISTRICT

pytestmark = pytest.mark.integration


def test_admins_create_districts_and_anyone_reads_them(world):
    assert world.client.post("/districts", json={"name": "Район Нура"}).status_code == 401
    created = world.client.post("/districts", json={"name": "Район Нура"}, headers=world.admin())
    assert created.status_code == 201
    again = world.client.post("/districts", json={"name": "Район Нура"}, headers=world.admin())
    assert again.status_code == 409
    refused = world.client.post("/districts", json={"name": "X район"}, headers=world.operator())
    assert refused.status_code == 403
    page = world.client.get("/districts", query_string={"limit": 2}, headers=world.operator())
    assert len(page.json["items"]) == 2 and page.json["next_cursor"]
    rest = world.client.get(
        "/districts",
        query_string={"limit": 2, "cursor": page.json["next_cursor"]},
        headers=world.operator(),
    )
    assert len(rest.json["items"]) == 1 and rest.json["next_cursor"] is None
    public = world.client.get("/districts")  # the catalogue needs no sign-in
    assert public.status_code == 200 and len(public.json["items"]) == 3
    kindergartens = world.client.get("/kindergartens", query_string={"district_id": DISTRICT})
    assert kindergartens.status_code == 200 and kindergartens.json["items"]
    one = world.client.get(f"/kindergartens/{KG}")
    assert one.status_code == 200 and "groups" in one.json
    bad = world.client.get("/districts", query_string={"cursor": "%%%"}, headers=world.admin())
    assert bad.status_code == 400 and bad.json["code"] == "invalid_cursor"
    assert bad.json["invalid_params"][0]["name"] == "cursor"


def test_the_district_operator_creates_kindergartens_only_in_their_district(world):
    body = {"name": "Жулдыз", "district_id": DISTRICT, "address": "ул. 5", "languages": ["kk"]}
    made = world.client.post("/kindergartens", json=body, headers=world.operator())
    assert made.status_code == 201 and made.json["languages"] == ["kk"]
    other = world.client.post("/kindergartens", json=body, headers=world.operator(OTHER_DISTRICT))
    assert other.status_code == 403
    staff = world.client.post("/kindergartens", json=body, headers=world.staff())
    assert staff.status_code == 403
    bad = world.client.post(
        "/kindergartens", json={**body, "languages": ["en"]}, headers=world.operator()
    )
    assert bad.status_code == 422 and bad.json["invalid_params"][0]["name"] == "languages.0"
    kk = world.client.get(
        "/kindergartens",
        query_string={"district_id": DISTRICT, "language": "kk"},
        headers=world.operator(),
    )
    assert made.json["id"] in [k["id"] for k in kk.json["items"]]


def test_staff_manage_their_own_kindergartens_groups_and_teachers(world):
    teacher = world.account(("kindergarten_staff",), KG)
    elsewhere = world.account(("kindergarten_staff",), KG2)
    body = {"name": "Солнышко", "birth_year": 2024, "language": "ru", "capacity": 20}
    made = world.client.post(
        f"/kindergartens/{KG}/groups",
        json={**body, "teacher_ids": [teacher]},
        headers=world.staff(),
    )
    assert made.status_code == 201 and made.json["teacher_ids"] == [teacher]
    wrong = world.client.post(
        f"/kindergartens/{KG}/groups",
        json={**body, "teacher_ids": [elsewhere]},
        headers=world.staff(),
    )
    assert wrong.status_code == 422 and wrong.json["invalid_params"][0]["name"] == "teacher_ids"
    assert (
        world.client.post(
            f"/kindergartens/{KG}/groups", json=body, headers=world.staff(KG2)
        ).status_code
        == 403
    )
    group_path = f"/kindergartens/{KG}/groups/{made.json['id']}"
    patched = world.client.patch(group_path, json={"teacher_ids": []}, headers=world.staff())
    assert patched.status_code == 200 and patched.json["teacher_ids"] == []
    assert (
        world.client.patch(group_path, json={"capacity": 5}, headers=world.staff(KG2)).status_code
        == 403
    )
    detail = world.client.get(f"/kindergartens/{KG}", headers=world.operator()).json
    assert made.json["id"] in [g["id"] for g in detail["groups"]]
    assert world.client.get("/kindergartens/nope", headers=world.operator()).status_code == 404


def test_staff_are_learnt_from_identitys_accounts(world):
    head = world.account(("kindergarten_staff",), KG)
    world.account(("kindergarten_staff",), KG2)
    listed = world.client.get(f"/kindergartens/{KG}/staff", headers=world.staff())
    assert head in [s["account_id"] for s in listed.json]
    assert all(s["account_id"] != "x" for s in listed.json)
    world.db[accounts.ACCOUNTS].update_one({"_id": head}, {"$set": {"active": False}})
    listed = world.client.get(f"/kindergartens/{KG}/staff", headers=world.staff())
    assert head not in [s["account_id"] for s in listed.json]
    parent = world.headers(world.account())
    assert world.client.get(f"/kindergartens/{KG}/staff", headers=parent).status_code == 403
