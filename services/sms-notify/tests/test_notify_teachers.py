"""Nobody reaches a child's teacher, or a child's grades, but the child's parent: a parent writes
only to teachers of their own child (as the school journal's or kindergarten's events have it),
a teacher writes only to parents of children they teach, subscriptions only to a child the
population registry links to the parent, and an unverified cabinet gets neither."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import (
    FATHER_IIN,
    MOTHER_IIN,
    STRANGER_IIN,
    STUDENT_IIN,
    UNKNOWN_STUDENT,
    add_account,
    envelope,
    handle,
    key,
)

from edu_common.envelope import Envelope
from sms_notify import events, journal, store, worker
from sms_notify.domain.conversations import teaches
from sms_notify.usecases import teaching

SCHOOL, OTHER_SCHOOL, KG = "school-17", "school-99", "kg-5"
T0 = dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC)


# --- the rule ------------------------------------------------------------------------------
def test_a_teacher_is_the_one_the_events_name_else_one_of_the_childs_school():
    teacher = {"_id": "t-1", "roles": ["teacher"], "organization_id": SCHOOL}
    assert teaches(teacher, {"organization_id": SCHOOL, "teacher_ids": []})
    assert not teaches(teacher, {"organization_id": OTHER_SCHOOL, "teacher_ids": []})
    assert not teaches(teacher, {"organization_id": None, "teacher_ids": []})
    # Once the events name the child's teachers, only those.
    assert not teaches(teacher, {"organization_id": SCHOOL, "teacher_ids": ["t-2"]})
    assert teaches(teacher, {"organization_id": SCHOOL, "teacher_ids": ["t-1", "t-2"]})
    # Staff of the school who are not teachers, and a link that has ended: nobody.
    staff = {"_id": "s-1", "roles": ["school_admin"], "organization_id": SCHOOL}
    assert not teaches(staff, {"organization_id": SCHOOL, "teacher_ids": []})
    assert not teaches(teacher, {"organization_id": SCHOOL, "teacher_ids": [], "active": False})
    # A kindergarten's staff named as the group's teacher.
    carer = {"_id": "k-1", "roles": ["kindergarten_staff"], "organization_id": KG}
    assert teaches(carer, {"organization_id": KG, "teacher_ids": ["k-1"]})
    assert not teaches(carer, {"organization_id": KG, "teacher_ids": []})


# --- helpers ---------------------------------------------------------------------------------
def homework(deps, student=STUDENT_IIN, school=SCHOOL, class_name="7А", at=T0, **extra):
    data = {
        "homework_id": uuid.uuid4().hex,
        "student_iin": student,
        "student_name": "Кенжебаев Дәулет",
        "school_id": school,
        "class_name": class_name,
        "subject": "Математика",
        "text": "§12",
        "assigned_at": at,
        **extra,
    }
    binding = {b.name: b for b in worker.journal_bindings(deps)}["journal-homework"]
    assert handle(deps.db, binding, envelope(journal.HOMEWORK_ASSIGNED, data, occurred_at=at))


def kindergarten_event(deps, event, parent: str, **data):
    base = {
        "application_id": "app-1",
        "parent_account_id": parent,
        "child_iin_masked": "********2946",
        "child_first_name": "Дәулет",
        "district_id": "d-1",
        "kindergarten_id": KG,
        "kindergarten_name": "Балапан",
        **data,
    }
    binding = {b.name: b for b in worker.notification_bindings(deps)}["notifications"]
    env = Envelope.from_dict(event.make(base, occurred_at=data.get("at", T0)).to_dict())
    assert handle(deps.db, binding, env)


def teacher(db, organization=SCHOOL, roles=("teacher",), **kw) -> str:
    return add_account(
        db,
        roles=roles,
        iin=kw.pop("iin", STRANGER_IIN),
        phone=kw.pop("phone", "+77010000301"),
        email=kw.pop("email", f"{uuid.uuid4().hex[:6]}@school.kz"),
        full_name="Марат Ахметов",
        organization_id=organization,
        **kw,
    )


def start(client, minter, parent, teacher_id, **extra):
    body = {"teacher_account_id": teacher_id, "text": "Добрый день!", **extra}
    return client.post("/conversations", json=body, headers={**minter.headers(parent), **key()})


def write(client, minter, who, conv_id, roles=("citizen",)):
    return client.post(
        f"/conversations/{conv_id}/messages",
        json={"text": "Ещё вопрос"},
        headers=minter.headers(who, roles=list(roles)),
    )


# --- conversations ---------------------------------------------------------------------------
def test_a_parent_writes_only_to_a_teacher_of_their_own_child(client, db, minter, deps):
    mother = add_account(db, iin=MOTHER_IIN)
    father = add_account(db, iin=FATHER_IIN, phone="+77010000102")
    stranger = add_account(db, iin=STRANGER_IIN, phone="+77010000103")
    ours = teacher(db)
    theirs = teacher(db, organization=OTHER_SCHOOL, phone="+77010000302")
    homework(deps)  # the journal: Дәулет is in 7А of school-17

    # A stranger cannot reach the child's teacher; nor the child's own parent another school's.
    r = start(client, minter, stranger, ours)
    assert r.status_code == 403 and r.json["code"] == "not_your_childs_teacher"
    assert r.json["invalid_params"][0]["name"] == "teacher_account_id"
    r = start(client, minter, mother, theirs)
    assert r.status_code == 403 and r.json["code"] == "not_your_childs_teacher"
    # Naming a child that is not theirs is not_your_child, whoever's it is.
    for child in (STUDENT_IIN, UNKNOWN_STUDENT):
        r = start(client, minter, stranger, ours, student_iin=child)
        assert r.status_code == 403 and r.json["code"] == "not_your_child", child
        assert r.json["invalid_params"][0]["name"] == "student_iin"
    assert db[store.CONVERSATIONS].count_documents({}) == 0

    # Both registry parents may.
    for parent in (mother, father):
        r = start(client, minter, parent, ours, student_iin=STUDENT_IIN)
        assert r.status_code == 201, r.json
        assert r.json["conversation"]["child_name"] == "Дәулет"
    r = start(client, minter, mother, ours)  # the child found among hers
    assert r.status_code == 201 and r.json["conversation"]["child_name"] == "Дәулет"


def test_a_child_unknown_to_the_journal_links_no_teacher(client, db, minter):
    mother = add_account(db, iin=MOTHER_IIN)
    r = start(client, minter, mother, teacher(db))
    assert r.status_code == 403 and r.json["code"] == "not_your_childs_teacher"


def test_when_the_child_moves_school_neither_side_writes_on(client, db, minter, deps):
    mother = add_account(db, iin=MOTHER_IIN)
    ours = teacher(db)
    homework(deps)
    conv = start(client, minter, mother, ours).json["conversation"]["id"]
    assert write(client, minter, mother, conv).status_code == 201
    assert write(client, minter, ours, conv, roles=("teacher",)).status_code == 201

    homework(deps, school=OTHER_SCHOOL, class_name="8Б", at=T0 + dt.timedelta(days=30))
    r = write(client, minter, mother, conv)
    assert r.status_code == 403 and r.json["code"] == "not_your_childs_teacher"
    r = write(client, minter, ours, conv, roles=("teacher",))
    assert r.status_code == 403 and r.json["code"] == "not_your_pupil"
    # What was written stays readable by both.
    listed = client.get(f"/conversations/{conv}/messages", headers=minter.headers(mother))
    assert listed.status_code == 200 and len(listed.json["items"]) == 3
    # An old event of the old school, arriving late, does not bring the link back.
    homework(deps, at=T0 + dt.timedelta(days=1))
    assert write(client, minter, mother, conv).status_code == 403
    link = db[store.TEACHING_LINKS].find_one({"_id": f"school|{STUDENT_IIN}"})
    assert (link["organization_id"], link["class_name"]) == (OTHER_SCHOOL, "8Б")


def test_when_the_journal_names_teachers_only_they_teach_the_child(deps, db):
    """The journal's contract may name the teacher (teacher_account_id): then a teacher of
    the school who is not named does not teach the child."""
    mother = {"_id": "m", "iin": MOTHER_IIN}
    named = {"_id": "t-named", "roles": ["teacher"], "organization_id": SCHOOL}
    other = {"_id": "t-other", "roles": ["teacher"], "organization_id": SCHOOL}
    data = {"student_iin": STUDENT_IIN, "school_id": SCHOOL, "class_name": "7А"}
    env = Envelope.from_dict(
        journal.HOMEWORK_ASSIGNED.make(
            {**data, "homework_id": "h", "subject": "М", "text": "x", "assigned_at": T0},
            occurred_at=T0,
        ).to_dict()
    )
    teaching.note_journal(deps, None, data, env)
    assert teaching.find_link(deps, mother, other) is not None  # nobody named yet
    teaching.note_journal(deps, None, {**data, "teacher_account_id": "t-named"}, env)
    assert teaching.find_link(deps, mother, other) is None
    assert teaching.find_link(deps, mother, named)[0]["teacher_ids"] == ["t-named"]


def test_kindergarten_teachers_of_the_childs_kindergarten_until_it_leaves(client, db, minter, deps):
    mother = add_account(db, iin=MOTHER_IIN)
    stranger = add_account(db, iin=STRANGER_IIN, phone="+77010000103")
    carer = teacher(db, organization=KG)
    elsewhere = teacher(db, organization="kg-9", phone="+77010000303")
    assert start(client, minter, mother, carer).status_code == 403  # not enrolled yet

    kindergarten_event(deps, events.KG_ENROLLED, mother, referral_id="ref-1", group_id="g-1")
    r = start(client, minter, mother, carer)
    assert r.status_code == 201, r.json
    assert r.json["conversation"]["child_name"] == "Дәулет"
    conv = r.json["conversation"]["id"]
    assert start(client, minter, mother, elsewhere).status_code == 403
    assert start(client, minter, stranger, carer).status_code == 403
    # Naming the child: the enrolment's masked IIN must be this child's.
    assert start(client, minter, mother, carer, student_iin=STUDENT_IIN).status_code == 201
    assert write(client, minter, carer, conv, roles=("teacher",)).status_code == 201

    kindergarten_event(deps, events.KG_LEFT, mother, reason="moved", at=T0 + dt.timedelta(days=60))
    r = write(client, minter, carer, conv, roles=("teacher",))
    assert r.status_code == 403 and r.json["code"] == "not_your_pupil"
    assert start(client, minter, mother, carer).status_code == 403


def test_an_unverified_cabinet_writes_to_no_teacher(client, db, minter, deps):
    hand_made = add_account(db, iin=MOTHER_IIN, verified=False)
    homework(deps)
    r = start(client, minter, hand_made, teacher(db))
    assert r.status_code == 403 and r.json["code"] == "account_not_verified"
    assert "operator" in r.json["detail"] and "identity document" in r.json["detail"]


# --- subscriptions ----------------------------------------------------------------------------
def subscribe(client, minter, account, student=STUDENT_IIN):
    body = {"student_iin": student, "phone": "+77010000101", "kinds": ["homework"]}
    return client.post("/subscriptions", json=body, headers={**minter.headers(account), **key()})


def test_subscriptions_only_to_a_child_the_registry_links_to_the_parent(client, db, minter):
    stranger = add_account(db, iin=STRANGER_IIN)
    for child in (STUDENT_IIN, UNKNOWN_STUDENT):
        r = subscribe(client, minter, stranger, child)
        assert r.status_code == 403, r.json
        assert r.json["code"] == "not_your_child"
        assert r.json["invalid_params"][0]["name"] == "student_iin"
    assert db[store.SUBSCRIPTIONS].count_documents({}) == 0
    assert subscribe(client, minter, add_account(db, iin=MOTHER_IIN)).status_code == 201


def test_an_unverified_cabinet_cannot_subscribe_to_a_childs_grades(client, db, minter):
    hand_made = add_account(db, iin=MOTHER_IIN, verified=False)
    r = subscribe(client, minter, hand_made)
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert r.json["code"] == "account_not_verified"
    assert "operator must check your identity document" in r.json["detail"]
    assert db[store.SUBSCRIPTIONS].count_documents({}) == 0
    # Verified (an operator checked the document; identity's next account.changed says so).
    add_account(db, hand_made, iin=MOTHER_IIN, verified=True)
    assert subscribe(client, minter, hand_made).status_code == 201
