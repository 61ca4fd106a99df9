"""Door codes and attendance over HTTP: a mark proves presence, a sheet once approved is final."""

import datetime as dt

import pytest

from kindergarten.events import ATTENDANCE_MARKED
from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids

MARKED = ATTENDANCE_MARKED.routing_key


@pytest.fixture
def child(kids):
    iin = kids.enrol("Аружан")
    assert kids.add_escort(iin, "granny").status_code == 201
    return iin


def sheet(kids, child, who="mother", month="2026-11"):
    return kids.client.get(f"/children/{child}/attendance?month={month}", headers=kids.headers(who))


def test_the_door_code_is_for_the_kindergartens_staff(kids):
    code = kids.door_code()
    assert code["kindergarten_id"] == kf.KG and len(code["code"]) == 8
    assert code["payload"] == f"edu-kg-door:v1:{kf.KG}:{code['code']}"
    valid_until = dt.datetime.fromisoformat(code["valid_until"])
    assert dt.timedelta(0) < valid_until - kids.clock() <= dt.timedelta(seconds=30)
    assert kids.door_code(who="teacher")["code"] == code["code"]
    url = f"/kindergartens/{kf.KG}/door-code"
    assert kids.client.get(url).status_code == 401
    for who in ("mother", "granny", "other_staff"):
        assert kids.client.get(url, headers=kids.headers(who)).status_code == 403
    other = kids.client.get(f"/kindergartens/{kf.KG_OTHER}/door-code", headers=kids.headers("head"))
    assert other.status_code == 403
    kids.clock.advance(seconds=30)
    assert kids.door_code()["code"] != code["code"]


def test_an_escort_marks_in_and_out_with_the_door_code(kids, child):
    r = kids.mark(child, "granny", "in")
    assert r.status_code == 201, r.json
    assert r.json["marked_by"] == "escort" and r.json["by_name"] == "Сейтова Гульнар"
    assert r.json["day"] == "2026-11-20"
    r = kids.mark(child, "granny", "in")
    assert r.status_code == 409 and r.json["code"] == "child_already_in"
    kids.clock.advance(hours=8)
    r = kids.mark(child, "mother", "out")  # the parent is an escort too
    assert r.status_code == 201, r.json
    r = kids.mark(child, "mother", "out")
    assert r.status_code == 409 and r.json["code"] == "child_not_in"
    [day] = sheet(kids, child).json["days"]
    assert [m["direction"] for m in day["marks"]] == ["in", "out"]
    assert day["still_inside"] is False
    events = kids.events(MARKED)
    assert [e["data"]["direction"] for e in events] == ["in", "out"]
    assert all(child not in str(e["data"]) for e in events)
    assert events[0]["data"]["parent_account_id"] == kids.people["mother"].account_id


def test_the_code_must_be_the_doors_current_or_previous_one(kids, child):
    shown = kids.door_code()["payload"]
    kids.clock.advance(seconds=45)  # the screen has changed once since it was read
    assert kids.mark(child, "granny", code=shown).status_code == 201
    kids.clock.advance(hours=1)
    r = kids.mark(child, "granny", "out", code=shown)  # an old photo of the QR
    assert r.status_code == 422 and r.json["code"] == "door_code_invalid"
    assert r.json["invalid_params"][0]["name"] == "door_code"
    other = kids.door_code(kf.KG_OTHER, who="other_staff")
    r = kids.mark(child, "granny", "out", code=other["payload"])  # another kindergarten's door
    assert r.json["code"] == "door_code_invalid"
    r = kids.mark(child, "granny", "out", code=kids.door_code()["code"])  # typed by hand
    assert r.status_code == 201
    r = kids.client.post(
        f"/children/{child}/attendance", json={"direction": "in"}, headers=kids.headers("granny")
    )
    assert r.status_code == 422 and r.json["code"] == "door_code_invalid"


def test_the_groups_teacher_marks_without_a_code_other_staff_may_not(kids, child):
    r = kids.mark(child, "teacher", "in")
    assert r.status_code == 201 and r.json["marked_by"] == "teacher"
    r = kids.mark(child, "head", "out")
    assert r.status_code == 403
    # A mark recorded late fits between the others; one ahead of time is refused.
    r = kids.mark(child, "teacher", "out", at=(kids.clock() + dt.timedelta(minutes=5)).isoformat())
    assert r.status_code == 422 and r.json["code"] == "mark_in_future"
    r = kids.mark(child, "teacher", "out", at=(kids.clock() - dt.timedelta(hours=1)).isoformat())
    assert r.status_code == 409 and r.json["code"] == "child_not_in"
    kids.clock.advance(hours=7)
    r = kids.mark(child, "teacher", "out", at=(kids.clock() - dt.timedelta(hours=1)).isoformat())
    assert r.status_code == 201
    r = kids.mark(child, "granny", "out", at=kids.clock().isoformat())
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "at"


def test_approved_months_are_final(kids, child):
    assert kids.mark(child, "granny", "in").status_code == 201
    url = f"/children/{child}/attendance/2026-11/approve"
    assert kids.client.post(url, headers=kids.headers("granny")).status_code == 403
    assert kids.client.post(url, headers=kids.headers("head")).status_code == 403
    r = kids.client.post(url, headers=kids.headers("mother"))
    assert r.status_code == 200, r.json
    assert r.json["approved"] is True and r.json["days_present"] == 1
    r = kids.client.post(url, headers=kids.headers("mother"))
    assert r.status_code == 409 and r.json["code"] == "month_already_approved"
    kids.clock.advance(hours=8)
    r = kids.mark(child, "granny", "out")
    assert r.status_code == 409 and r.json["code"] == "month_approved"
    r = kids.mark(child, "teacher", "out")
    assert r.status_code == 409 and r.json["code"] == "month_approved"
    assert sheet(kids, child).json["approved"] is True


def test_approval_only_for_a_current_or_past_month(kids, child):
    h = kids.headers("mother")
    r = kids.client.post(f"/children/{child}/attendance/2026-12/approve", headers=h)
    assert r.status_code == 422 and r.json["code"] == "month_in_future"
    r = kids.client.post(f"/children/{child}/attendance/2026-13/approve", headers=h)
    assert r.status_code == 422 and r.json["code"] == "month_invalid"
    assert kids.client.post(f"/children/{child}/attendance/2026-10/approve", headers=h).json[
        "approved"
    ]
    # The month turns at midnight in Almaty (UTC+5), not in UTC.
    kids.clock.now = dt.datetime(2026, 11, 30, 19, 30, tzinfo=dt.UTC)  # 00:30 on 1 December
    r = kids.client.post(f"/children/{child}/attendance/2026-12/approve", headers=h)
    assert r.status_code == 200


def test_the_sheet_is_for_the_parent_and_the_kindergarten(kids, child):
    kids.mark(child, "granny", "in")
    assert sheet(kids, child).status_code == 200
    assert sheet(kids, child, "head").json["days_present"] == 1
    assert sheet(kids, child, "granny").status_code == 403
    for who in ("stranger", "other_staff", "father"):
        assert sheet(kids, child, who).status_code == 404
    assert kids.client.get(f"/children/{child}/attendance").status_code == 401
    r = sheet(kids, child, month="2026-1")
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "month"
    assert sheet(kids, child, month="2026-10").json["days"] == []
    current = kids.client.get(f"/children/{child}/attendance", headers=kids.headers("mother"))
    assert current.json["month"] == "2026-11"


def test_only_escorts_and_the_teacher_mark(kids, child):
    for who in ("stranger", "other_staff", "father"):
        assert kids.mark(child, who).status_code == 404
    r = kids.client.post(
        f"/children/{child}/attendance", json={"direction": "in", "door_code": "12345678"}
    )
    assert r.status_code == 401
    r = kids.client.post(
        f"/children/{child}/attendance",
        json={"direction": "sideways"},
        headers=kids.headers("teacher"),
    )
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "direction"
    assert kids.events(MARKED) == []


def test_a_repeated_mark_with_its_key_is_answered_once(kids, child):
    h = {**kids.headers("granny"), "Idempotency-Key": "mark-in-0000001"}
    body = {"direction": "in", "door_code": kids.door_code()["payload"]}
    first = kids.client.post(f"/children/{child}/attendance", json=body, headers=h)
    again = kids.client.post(f"/children/{child}/attendance", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert len(kids.events(MARKED)) == 1


def test_the_kindergartens_day_for_its_staff(kids, child):
    second = kids.enrol("Нұрлан")
    assert kids.mark(child, "granny", "in").status_code == 201
    kids.clock.advance(minutes=5)
    assert kids.mark(second, "teacher", "in").status_code == 201
    url = f"/kindergartens/{kf.KG}/attendance"
    r = kids.client.get(f"{url}?limit=1", headers=kids.headers("head"))
    assert r.status_code == 200 and r.json["day"] == "2026-11-20"
    assert [m["child_first_name"] for m in r.json["items"]] == ["Аружан"]
    r = kids.client.get(
        f"{url}?limit=1&cursor={r.json['next_cursor']}", headers=kids.headers("head")
    )
    assert [m["child_first_name"] for m in r.json["items"]] == ["Нұрлан"]
    assert r.json["next_cursor"] is None
    r = kids.client.get(f"{url}?day=2026-11-19", headers=kids.headers("teacher"))
    assert r.json["items"] == []
    assert kids.client.get(url, headers=kids.headers("other_staff")).status_code == 403
    assert kids.client.get(url, headers=kids.headers("mother")).status_code == 403
    assert kids.client.get(f"{url}?day=yesterday", headers=kids.headers("head")).status_code == 422
