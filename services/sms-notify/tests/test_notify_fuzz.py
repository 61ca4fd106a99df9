"""Schemathesis over sms-notify's own OpenAPI document, signed in as a parent (with a
subscription, a pending top-up and a conversation), the child's teacher and an admin: no input
produces a server error, and every error is problem+json."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path

import pytest
from schemathesis import GenerationMode

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import STUDENT_IIN, add_account, envelope, handle

from edu_common import fuzzing
from sms_notify import journal, worker

pytestmark = pytest.mark.integration

EXAMPLES = 8


@pytest.fixture
def scene(client, db, deps, minter):
    mother = add_account(db)
    teacher = add_account(
        db, roles=("teacher",), iin="880714327312", phone="+77010000301",
        email="t@school.kz", organization_id="school-17",
    )  # fmt: skip
    binding = {b.name: b for b in worker.journal_bindings(deps)}["journal-homework"]
    data = {
        "homework_id": "hw-1", "student_iin": STUDENT_IIN, "school_id": "school-17",
        "class_name": "7А", "subject": "Математика", "text": "§12",
        "assigned_at": dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC),
    }  # fmt: skip
    assert handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, data))
    mh = minter.headers(mother)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    sub = client.post(
        "/subscriptions",
        json={"student_iin": STUDENT_IIN, "phone": "+77010000101", "kinds": ["homework"]},
        headers=mh,
    )
    assert sub.status_code == 201, sub.json
    top_up = client.post("/balance/top-ups", json={"amount": 500}, headers={**mh, **key})
    assert top_up.status_code == 202, top_up.json
    conv = client.post(
        "/conversations", json={"teacher_account_id": teacher, "text": "Здравствуйте"}, headers=mh
    )
    assert conv.status_code == 201, conv.json
    real = {
        "subscription_id": sub.json["id"],
        "top_up_id": top_up.json["id"],
        "conversation_id": conv.json["conversation"]["id"],
        "file_id": "0" * 24,
    }
    people = {
        "parent": mh,
        "teacher": minter.headers(teacher, roles=["teacher"]),
        "admin": minter.headers("acc-admin", roles=["admin"]),
    }
    return real, people


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(app, scene, mode):
    real, people = scene
    operations = fuzzing.operations(app)
    assert len(operations) >= 20
    failures = fuzzing.failures(operations, mode, people, real=real, examples=EXAMPLES)
    assert not failures, "\n".join(failures)
