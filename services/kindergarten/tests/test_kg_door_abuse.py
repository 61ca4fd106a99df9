"""Nobody can act as someone else at the kindergarten's door: wrong door codes are limited per
account and per child (a growing wait, then a lock, audited); a teacher corrects attendance of
today and yesterday only, older days wait for the district's operator; an account not proven to
hold its IIN neither applies for a place nor acts as an escort."""

import datetime as dt

import pytest

from edu_common import accounts
from kindergarten import store
from services.kindergarten.tests import kg_children_fixtures as kf

pytestmark = pytest.mark.integration
kids = kf.kids

WRONG = "00000000"
DISTRICT = "d-1"


@pytest.fixture
def child(kids):
    iin = kids.enrol("Аружан")
    assert kids.add_escort(iin, "granny").status_code == 201
    assert kids.add_escort(iin, "uncle").status_code == 201
    return iin


def wrong(kids, child, who="granny"):
    return kids.mark(child, who, code=WRONG)


def operator(kids, district=DISTRICT, account="acc-operator"):
    return kids.minter.headers(account, roles=["district_operator"], organization_id=district)


def audit_types(kids) -> list[str]:
    return [d["type"] for d in kids.db[store.AUDIT].find().sort("at", 1)]


# --- wrong door codes ----------------------------------------------------------------------
def test_wrong_codes_make_the_account_wait_longer_and_longer_then_lock(kids, child):
    for _ in range(3):  # a blurred scan or two costs nothing
        r = wrong(kids, child)
        assert r.status_code == 422 and r.json["code"] == "door_code_invalid"
        assert "Retry-After" not in r.headers
    r = wrong(kids, child)
    assert r.status_code == 422 and r.headers["Retry-After"] == "15"
    # While waiting, even the right code is not looked at.
    r = kids.mark(child, "granny")
    assert r.status_code == 429 and r.json["code"] == "door_code_delayed"
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(r.headers["Retry-After"]) <= 15
    waits = []
    for _ in range(5):  # 5th to 9th wrong code: 30, 60, 120, 240, 300 (the cap) seconds
        kids.clock.advance(minutes=5)
        waits.append(int(wrong(kids, child).headers["Retry-After"]))
    assert waits == [30, 60, 120, 240, 300]
    kids.clock.advance(minutes=5)
    r = wrong(kids, child)  # the 10th: locked for an hour
    assert r.status_code == 422 and r.headers["Retry-After"] == "3600"
    kids.clock.advance(minutes=10)
    r = kids.mark(child, "granny")
    assert r.status_code == 423 and r.json["code"] == "door_code_locked"
    assert int(r.headers["Retry-After"]) == 50 * 60
    # The group's teacher still marks the child: the lock is on codes, not on the child.
    assert kids.mark(child, "teacher").status_code == 201
    kids.clock.advance(minutes=51)
    assert kids.mark(child, "granny", "out").status_code == 201
    types = audit_types(kids)
    assert types.count("door_code.rejected") == 10
    assert types.count("door_code.locked") == 2  # the account's and the child's counts
    entry = kids.db[store.AUDIT].find_one({"type": "door_code.locked"})
    assert entry["account_id"] == kids.people["granny"].account_id
    assert WRONG not in str(entry)  # who, what, when; never the code


def test_the_child_counts_the_wrong_codes_of_all_its_escorts(kids, child):
    """Several escorts' accounts together guess no faster than one."""
    for who in ("granny", "uncle", "mother"):
        assert wrong(kids, child, who).status_code == 422
    r = wrong(kids, child, "granny")  # the child's 4th wrong code (granny's 2nd)
    assert r.headers["Retry-After"] == "15"
    r = kids.mark(child, "uncle")  # uncle has made one mistake, but the child must wait
    assert r.status_code == 429 and r.json["code"] == "door_code_delayed"
    # Another child of the same escort is not held back by this one.
    other = kids.enrol("Нұрсұлтан")
    assert kids.add_escort(other, "aunt").status_code == 201
    assert kids.mark(other, "aunt").status_code == 201


def test_a_right_code_starts_the_count_again(kids, child):
    for _ in range(3):
        wrong(kids, child)
    assert kids.mark(child, "granny").status_code == 201
    for _ in range(3):
        r = wrong(kids, child)
        assert "Retry-After" not in r.headers
    assert kids.db[store.DOOR_ATTEMPTS].count_documents({}) == 2
    # Each counter is forgotten (TTL) once its window has passed.
    for doc in kids.db[store.DOOR_ATTEMPTS].find():
        assert doc["expires_at"] == kids.clock() + dt.timedelta(hours=1)


def test_no_code_at_all_is_refused_but_not_counted(kids, child):
    for _ in range(6):
        r = kids.client.post(
            f"/children/{child}/attendance",
            json={"direction": "in"},
            headers=kids.headers("granny"),
        )
        assert r.status_code == 422 and r.json["code"] == "door_code_invalid"
    assert kids.mark(child, "granny").status_code == 201


def test_the_audit_log_is_for_the_districts_operators(kids, child):
    wrong(kids, child)
    url = f"/kindergartens/{kf.KG}/audit"
    r = kids.client.get(url, headers=operator(kids))
    assert r.status_code == 200, r.json
    [entry] = r.json["items"]
    assert entry["type"] == "door_code.rejected" and entry["child_iin_masked"].endswith(child[-4:])
    assert child not in str(r.json)
    for who in ("granny", "head", "teacher"):
        assert kids.client.get(url, headers=kids.headers(who)).status_code == 403
    assert kids.client.get(url, headers=operator(kids, "d-other")).status_code == 403


# --- corrections ---------------------------------------------------------------------------
def at(kids, **delta) -> str:
    return (kids.clock() - dt.timedelta(**delta)).isoformat()


def test_a_teacher_corrects_today_and_yesterday_at_once(kids, child):
    r = kids.mark(child, "teacher", "in", at=at(kids, days=1, hours=1))  # yesterday 09:00
    assert r.status_code == 201 and r.json["day"] == "2026-11-19"
    r = kids.mark(child, "teacher", "out", at=at(kids, days=1, hours=-6))  # yesterday 16:00
    assert r.status_code == 201


def test_an_older_day_waits_for_the_districts_operator(kids, child):
    late = at(kids, days=3, hours=1)  # Tuesday the 17th, 09:00
    r = kids.mark(child, "teacher", "in", at=late)
    assert r.status_code == 422 and r.json["code"] == "correction_reason_required"
    assert r.json["invalid_params"][0]["name"] == "reason"
    r = kids.mark(child, "teacher", "in", at=late, reason="Забыла отметить утром")
    assert r.status_code == 202, r.json
    correction = r.json
    assert correction["status"] == "pending" and correction["day"] == "2026-11-17"
    assert correction["child_iin_masked"].endswith(child[-4:]) and child not in str(correction)
    sheet = kids.client.get(
        f"/children/{child}/attendance?month=2026-11", headers=kids.headers("mother")
    )
    assert sheet.json["days"] == []  # nothing written yet
    # Its kindergarten's staff and its district's operators see it; others do not.
    listed = kids.client.get("/attendance-corrections", headers=operator(kids))
    assert [c["id"] for c in listed.json["items"]] == [correction["id"]]
    mine = kids.client.get("/attendance-corrections", headers=kids.headers("head"))
    assert [c["id"] for c in mine.json["items"]] == [correction["id"]]
    theirs = kids.client.get("/attendance-corrections", headers=kids.headers("other_staff"))
    assert theirs.json["items"] == []
    url = f"/attendance-corrections/{correction['id']}"
    assert kids.client.get(url, headers=operator(kids, "d-other")).status_code == 404
    # Only the district's operator decides: not the teacher, not the head.
    for headers in (kids.headers("teacher"), kids.headers("head")):
        assert kids.client.post(f"{url}/approve", json={}, headers=headers).status_code == 403
    r = kids.client.post(f"{url}/approve", json={"reason": "Подтверждено"}, headers=operator(kids))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["mark_id"]
    mark = kids.db[store.ATTENDANCE].find_one({"_id": r.json["mark_id"]})
    assert mark["marked_by"] == "teacher" and mark["approved_by"] == "acc-operator"
    assert mark["by_account_id"] == kids.people["teacher"].account_id
    sheet = kids.client.get(
        f"/children/{child}/attendance?month=2026-11", headers=kids.headers("mother")
    )
    assert [d["day"] for d in sheet.json["days"]] == ["2026-11-17"]
    again = kids.client.post(f"{url}/approve", json={}, headers=operator(kids))
    assert again.status_code == 409 and again.json["code"] == "correction_decided"
    assert audit_types(kids) == [
        "attendance.correction_requested",
        "attendance.correction_approved",
    ]


def test_the_operator_may_reject_a_correction_saying_why(kids, child):
    r = kids.mark(child, "teacher", "in", at=at(kids, days=5), reason="Поздно внесла")
    url = f"/attendance-corrections/{r.json['id']}/reject"
    r = kids.client.post(url, json={}, headers=operator(kids))
    assert r.status_code == 422 and r.json["code"] == "decision_reason_required"
    r = kids.client.post(url, json={"reason": "Ребёнка не было"}, headers=operator(kids))
    assert r.status_code == 200 and r.json["status"] == "rejected"
    assert kids.db[store.ATTENDANCE].count_documents({}) == 0
    assert "attendance.correction_rejected" in audit_types(kids)


def test_a_correction_that_cannot_fit_is_refused_at_once(kids, child):
    late = at(kids, days=4)
    assert kids.mark(child, "teacher", "in", at=late, reason="a").status_code == 202
    url = f"/children/{child}/attendance/2026-11/approve"
    assert kids.client.post(url, headers=kids.headers("mother")).status_code == 200
    r = kids.mark(child, "teacher", "out", at=late, reason="b")
    assert r.status_code == 409 and r.json["code"] == "month_approved"
    # The pending one now fails on approval, and stays pending for the operator to reject.
    [pending] = kids.client.get("/attendance-corrections", headers=operator(kids)).json["items"]
    r = kids.client.post(
        f"/attendance-corrections/{pending['id']}/approve", json={}, headers=operator(kids)
    )
    assert r.status_code == 409 and r.json["code"] == "month_approved"
    assert kids.db[store.CORRECTIONS].find_one({"_id": pending["id"]})["status"] == "pending"


# --- unverified accounts -------------------------------------------------------------------
def unverify(kids, who: str) -> None:
    kids.db[accounts.ACCOUNTS].update_one(
        {"_id": kids.people[who].account_id}, {"$set": {"verified": False}}
    )


def test_an_unproven_account_with_an_escorts_iin_is_no_escort(kids, child):
    """Someone registered a cabinet with granny's IIN without proving it is theirs: granny is
    the child's escort, that account is not."""
    unverify(kids, "granny")
    r = kids.mark(child, "granny")
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    r = kids.client.get(f"/children/{child}", headers=kids.headers("granny"))
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    r = kids.client.get("/me/escorted-children", headers=kids.headers("granny"))
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    # An unproven parent keeps seeing the child's sheet but does not act as its escort.
    unverify(kids, "mother")
    r = kids.mark(child, "mother")
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    r = kids.client.get(f"/children/{child}/attendance", headers=kids.headers("mother"))
    assert r.status_code == 200
    r = kids.add_escort(child, "aunt")
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    # A copy made before identity sent `verified` reads as verified.
    kids.db[accounts.ACCOUNTS].update_one(
        {"_id": kids.people["uncle"].account_id}, {"$unset": {"verified": ""}}
    )
    assert kids.mark(child, "uncle").status_code == 201


def test_an_unproven_account_does_not_apply_for_a_place(world):
    parent = world.parent(dt.date(2023, 5, 1), dt.date(2024, 2, 1))
    app = world.apply(parent, child=1)  # while the account was proven
    world.db[accounts.ACCOUNTS].update_one({"_id": parent.account}, {"$set": {"verified": False}})
    assert world.apply(parent, expect=403)["code"] == "account_not_verified"
    r = world.client.post(
        "/places/any-place/claim",
        json={"application_id": app["id"]},
        headers=world.as_parent(parent),
    )
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    assert world.db[store.APPLICATIONS].count_documents({"parent_account_id": parent.account}) == 1
