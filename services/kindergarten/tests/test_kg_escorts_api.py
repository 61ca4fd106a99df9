"""Escorts over HTTP: the rules of seed 003 at their edges, and who may see and change what."""

import pytest

from edu_common.registry import RegistryUnavailable
from kindergarten.events import CHILD_LEFT, ESCORT_ADDED, ESCORT_REMOVED
from kindergarten.usecases.enrolment import add_parent_as_escort
from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids

ADDED = ESCORT_ADDED.routing_key
REMOVED = ESCORT_REMOVED.routing_key


def escorts_of(kids, child, who="mother"):
    r = kids.client.get(f"/children/{child}/escorts", headers=kids.headers(who))
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_the_applying_parent_is_the_first_escort(kids):
    child = kids.enrol("Аружан")
    [parent] = escorts_of(kids, child)
    assert parent["iin"] == kids.people["mother"].iin
    assert parent["is_applying_parent"] is True
    assert parent["phone"] == "+77010000001"
    # Enrolment redelivered: still one.
    enrolment = kids.db["enrolments"].find_one({"_id": child})
    add_parent_as_escort(kids.deps, None, enrolment)
    assert len(escorts_of(kids, child)) == 1


def test_an_escort_is_added_acts_at_once_and_gets_an_sms(kids):
    child = kids.enrol("Аружан")
    r = kids.add_escort(child, "granny")
    assert r.status_code == 201, r.json
    assert r.json["full_name"] == "Сейтова Гульнар" and r.json["is_applying_parent"] is False
    [event] = kids.events(ADDED)
    data = event["data"]
    assert data["escort_phone"] == "+77010000003"
    assert data["child_iin_masked"].endswith(child[-4:]) and child not in str(data)
    assert kids.people["granny"].iin not in str(data)
    assert data["kindergarten_name"] == "Балапан" and data["child_first_name"] == "Аружан"
    # No waiting for a synchronisation: she marks the child in right away.
    assert kids.mark(child, "granny").status_code == 201
    r = kids.client.get("/me/escorted-children", headers=kids.headers("granny"))
    assert [c["child_iin"] for c in r.json["items"]] == [child]


def test_sixteenth_birthday_today_may_escort_a_day_younger_may_not(kids):
    child = kids.enrol("Аружан")
    assert kids.add_escort(child, "sixteen_today").status_code == 201
    r = kids.add_escort(child, "sixteen_tomorrow")
    assert r.status_code == 422 and r.json["code"] == "escort_too_young"
    assert r.json["invalid_params"][0]["name"] == "iin"


def test_the_sixth_escort_is_refused(kids):
    child = kids.enrol("Аружан")
    for who in ("father", "granny", "uncle", "aunt"):  # with the mother: five
        assert kids.add_escort(child, who).status_code == 201
    r = kids.add_escort(child, "cousin")
    assert r.status_code == 422 and r.json["code"] == "escorts_per_child_limit"
    assert len(escorts_of(kids, child)) == 5
    # Detaching one frees a place.
    r = kids.client.delete(
        f"/children/{child}/escorts/{kids.people['aunt'].iin}", headers=kids.headers("mother")
    )
    assert r.status_code == 204
    assert kids.add_escort(child, "cousin").status_code == 201


def test_one_escort_for_at_most_five_children(kids):
    family = [kids.enrol(f"Бала{i}") for i in range(6)]
    for child in family[:5]:
        assert kids.add_escort(child, "granny").status_code == 201
    r = kids.add_escort(family[5], "granny")
    assert r.status_code == 422 and r.json["code"] == "children_per_escort_limit"
    # Another parent's child counts the same: the limit is the person's, not the family's.
    other = kids.enrol("Көрші", parent="father")
    r = kids.add_escort(other, "granny", parent="father")
    assert r.json["code"] == "children_per_escort_limit"
    page = kids.client.get("/me/escorted-children?limit=2", headers=kids.headers("granny")).json
    seen = [c["child_iin"] for c in page["items"]]
    while page["next_cursor"]:
        page = kids.client.get(
            f"/me/escorted-children?limit=2&cursor={page['next_cursor']}",
            headers=kids.headers("granny"),
        ).json
        seen += [c["child_iin"] for c in page["items"]]
    assert seen == family[:5]


def test_staff_are_refused_unless_the_applying_parent_of_this_child(kids):
    child = kids.enrol("Аружан")
    for staff in ("teacher", "other_staff"):  # staff of this or of any kindergarten
        r = kids.add_escort(child, staff)
        assert r.status_code == 422 and r.json["code"] == "escort_is_kindergarten_staff"
    # A teacher's own child: she applied, so she is its escort all the same.
    own = kids.enrol("Мадинаның баласы", parent="staff_parent", first_escort=False)
    r = kids.add_escort(own, "staff_parent", parent="staff_parent")
    assert r.status_code == 201 and r.json["is_applying_parent"] is True
    # ... but not of another's child.
    r = kids.add_escort(child, "staff_parent")
    assert r.json["code"] == "escort_is_kindergarten_staff"


def test_registry_data_must_match(kids):
    child = kids.enrol("Аружан")
    r = kids.add_escort(child, "granny", phone="+77019999999")
    assert r.status_code == 422 and r.json["code"] == "escort_phone_mismatch"
    assert r.json["invalid_params"][0]["name"] == "phone"
    r = kids.add_escort(child, "granny", full_name="Сейтова Гүлнар")
    assert r.status_code == 422 and r.json["code"] == "escort_name_mismatch"
    assert kids.add_escort(child, "granny", full_name="СЕЙТОВА  гульнар").status_code == 201
    r = kids.add_escort(child, "no_phone")
    assert r.json["code"] == "escort_phone_mismatch"
    unknown = kf.make_iin(kf.dt.date(1980, 1, 1), "male", 777)
    r = kids.client.post(
        f"/children/{child}/escorts",
        json={"iin": unknown, "phone": "+77010000099"},
        headers=kids.headers("mother"),
    )
    assert r.status_code == 422 and r.json["code"] == "escort_not_in_registry"
    r = kids.client.post(
        f"/children/{child}/escorts",
        json={"iin": "123456789012", "phone": "+77010000099"},
        headers=kids.headers("mother"),
    )
    assert r.status_code == 422 and r.json["code"] == "escort_iin_invalid"
    r = kids.add_escort(child, "granny")
    assert r.status_code == 409 and r.json["code"] == "escort_already_added"
    assert len(kids.events(ADDED)) == 1


def test_bad_input_names_the_field(kids):
    child = kids.enrol("Аружан")
    h = kids.headers("mother")
    r = kids.client.post(f"/children/{child}/escorts", json={"iin": "12"}, headers=h)
    assert r.status_code == 422
    assert {p["name"] for p in r.json["invalid_params"]} == {"iin"}
    r = kids.client.post(
        f"/children/{child}/escorts", json={"iin": "1" * 12, "phone": "+7701", "x": 1}, headers=h
    )
    assert r.status_code == 422 and "x" in {p["name"] for p in r.json["invalid_params"]}
    r = kids.client.get(f"/children/{child}/escorts?limit=0", headers=h)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "limit"
    r = kids.client.get(f"/children/{child}/escorts?cursor=nonsense", headers=h)
    assert r.status_code == 400 and r.json["code"] == "invalid_cursor"
    assert r.json["invalid_params"][0]["name"] == "cursor"


def test_the_applying_parent_cannot_be_removed_and_removal_is_told(kids):
    child = kids.enrol("Аружан")
    h = kids.headers("mother")
    r = kids.client.delete(f"/children/{child}/escorts/{kids.people['mother'].iin}", headers=h)
    assert r.status_code == 422 and r.json["code"] == "applying_parent_not_removable"
    r = kids.client.delete(f"/children/{child}/escorts/{kids.people['uncle'].iin}", headers=h)
    assert r.status_code == 404 and r.json["code"] == "escort_not_found"
    kids.add_escort(child, "uncle")
    r = kids.client.delete(f"/children/{child}/escorts/{kids.people['uncle'].iin}", headers=h)
    assert r.status_code == 204
    [event] = kids.events(REMOVED)
    assert kids.people["uncle"].iin not in str(event["data"])
    # A detached escort no longer sees or marks the child.
    assert kids.mark(child, "uncle").status_code == 404
    r = kids.client.get("/me/escorted-children", headers=kids.headers("uncle"))
    assert r.json["items"] == []


def test_who_may_see_and_change_escorts(kids):
    child = kids.enrol("Аружан")
    kids.add_escort(child, "granny")
    url = f"/children/{child}/escorts"
    body = {"iin": kids.people["uncle"].iin, "phone": kids.people["uncle"].phone}
    assert kids.client.get(url).status_code == 401
    assert kids.client.post(url, json=body).status_code == 401
    # Strangers and another kindergarten's staff learn nothing.
    for who in ("stranger", "other_staff", "father"):
        assert kids.client.get(url, headers=kids.headers(who)).status_code == 404
        assert kids.client.post(url, json=body, headers=kids.headers(who)).status_code == 404
        assert kids.client.get(f"/children/{child}", headers=kids.headers(who)).status_code == 404
    # An escort sees the child, not its escort list, and adds no one.
    assert (
        kids.client.get(f"/children/{child}", headers=kids.headers("granny")).json["relation"]
        == "escort"
    )
    assert kids.client.get(url, headers=kids.headers("granny")).status_code == 403
    assert kids.client.post(url, json=body, headers=kids.headers("granny")).status_code == 403
    r = kids.client.delete(f"{url}/{kids.people['granny'].iin}", headers=kids.headers("granny"))
    assert r.status_code == 403
    # The kindergarten's staff see who may collect the child, and change nothing.
    assert len(escorts_of(kids, child, "head")) == 2
    assert kids.client.post(url, json=body, headers=kids.headers("head")).status_code == 403
    # A child who is not enrolled, or no IIN at all.
    for missing in (kf.make_iin(kf.dt.date(2021, 1, 1), "male", 5), "nonsense"):
        r = kids.client.get(f"/children/{missing}/escorts", headers=kids.headers("mother"))
        assert r.status_code == 404


def test_an_account_not_yet_copied_is_asked_to_retry(kids):
    child = kids.enrol("Аружан")
    r = kids.client.get(f"/children/{child}/escorts", headers=kids.minter.headers("acc-brand-new"))
    assert r.status_code == 409 and r.json["code"] == "account_not_synced"
    assert r.headers["Retry-After"] == "2"


def test_adding_is_idempotent_with_a_key(kids):
    child = kids.enrol("Аружан")
    h = {**kids.headers("mother"), "Idempotency-Key": "add-granny-0001"}
    body = {"iin": kids.people["granny"].iin, "phone": kids.people["granny"].phone}
    first = kids.client.post(f"/children/{child}/escorts", json=body, headers=h)
    again = kids.client.post(f"/children/{child}/escorts", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(kids.events(ADDED)) == 1


def test_an_escort_is_attached_to_another_child_without_retyping_the_phone(kids):
    first, second = kids.enrol("Аружан"), kids.enrol("Нұрлан")
    h = kids.headers("mother")
    granny = kids.people["granny"].iin
    r = kids.client.post(f"/children/{second}/escorts", json={"iin": granny}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "phone_required"
    assert r.json["invalid_params"][0]["name"] == "phone"
    assert kids.add_escort(first, "granny").status_code == 201
    r = kids.client.post(f"/children/{second}/escorts", json={"iin": granny}, headers=h)
    assert r.status_code == 201 and r.json["phone"] == "+77010000003"
    # Another parent cannot borrow the phone the mother's check found.
    other = kids.enrol("Көрші", parent="father")
    r = kids.client.post(
        f"/children/{other}/escorts", json={"iin": granny}, headers=kids.headers("father")
    )
    assert r.status_code == 422 and r.json["code"] == "phone_required"


def test_a_child_who_leaves_releases_its_escorts(kids):
    family = [kids.enrol(f"Бала{i}") for i in range(6)]
    for child in family[:5]:
        assert kids.add_escort(child, "granny").status_code == 201
    assert kids.add_escort(family[5], "granny").json["code"] == "children_per_escort_limit"

    url, body = f"/children/{family[0]}/leave", {"reason": "school"}
    assert kids.client.post(url, json=body, headers=kids.headers("mother")).status_code == 403
    assert kids.client.post(url, json=body, headers=kids.headers("other_staff")).status_code == 404
    bad = kids.client.post(url, json={"reason": "?"}, headers=kids.headers("teacher"))
    assert bad.status_code == 422 and bad.json["invalid_params"][0]["name"] == "reason"
    assert kids.client.post(url, json=body, headers=kids.headers("teacher")).status_code == 204
    assert kids.client.post(url, json=body, headers=kids.headers("teacher")).status_code == 404
    [left] = kids.events(CHILD_LEFT.routing_key)
    assert left["data"]["reason"] == "school" and left["data"]["child_iin_masked"].endswith(
        family[0][-4:]
    )
    assert "iin" not in left["data"]  # masked only

    assert kids.add_escort(family[5], "granny").status_code == 201
    r = kids.client.get("/me/escorted-children", headers=kids.headers("granny"))
    assert [c["child_iin"] for c in r.json["items"]] == family[1:]


def test_a_registry_that_does_not_answer_is_a_503_not_a_500(kids):
    child = kids.enrol("Аружан")

    class Down:
        def find_person(self, iin):
            raise RegistryUnavailable("down")

        phones_for = children_of = find_person

    kids.deps.registry = Down()
    r = kids.add_escort(child, "granny")
    assert r.status_code == 503 and r.json["code"] == "registry_unavailable"
    assert r.headers["Retry-After"]
    assert kids.events(ADDED) == []
