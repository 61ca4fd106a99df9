"""The journal's events: homework SMS, grades kept for the weekly digest, charged once each."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import (
    FATHER_IIN,
    MOTHER_IIN,
    STUDENT_IIN,
    add_account,
    envelope,
    handle,
    messages,
)

from edu_common import accounts
from edu_common.consumer import Reject
from sms_notify import journal, store
from sms_notify.domain import digest
from sms_notify.usecases import balance, grades

PHONE = "+77010000101"


def homework(**over) -> dict:
    data = {
        "homework_id": "hw-1",
        "student_iin": STUDENT_IIN,
        "student_name": "Кенжебаев Дәулет",
        "school_id": "school-1",
        "class_name": "7А",
        "subject": "Математика",
        "text": "§12, задачи 1-5",
        "due_date": dt.date(2026, 11, 20),
        "assigned_at": dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC),
    }
    return {**data, **over}


def grade(grade_id="g-1", subject="Математика", value="5", at=None, **over) -> dict:
    data = {
        "grade_id": grade_id,
        "student_iin": STUDENT_IIN,
        "student_name": "Кенжебаев Дәулет",
        "subject": subject,
        "grade": value,
        "kind": "lesson",
        "recorded_at": at or dt.datetime(2026, 11, 18, 6, 0, tzinfo=dt.UTC),
    }
    return {**data, **over}


_made = itertools.count()


def subscribe(db, account_id, phone=PHONE, kinds=("homework", "grades_weekly"), sid=None):
    n = next(_made)
    doc = {
        "_id": sid or f"sub-{account_id}-{phone}",
        "account_id": account_id,
        "student_iin": STUDENT_IIN,
        "student_name": "Дәулет",
        "phone": phone,
        "kinds": list(kinds),
        "created_at": dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n),
    }
    db[store.SUBSCRIPTIONS].insert_one(doc)
    return doc


def fund(db, account_id, amount):
    db[store.BALANCES].update_one(
        {"_id": account_id}, {"$set": {"balance": amount, "run_out_notified": False}}, upsert=True
    )


def test_homework_sends_one_paid_sms_per_phone_whatever_is_redelivered(db, worker_bindings):
    mother = add_account(db)
    father = add_account(db, iin=FATHER_IIN, phone="+77010000102", email="father@example.kz")
    subscribe(db, mother)
    subscribe(db, father, phone=PHONE)  # the same phone, by the other parent
    subscribe(db, father, phone="+77010000102", kinds=("grades_weekly",))  # not homework
    fund(db, mother, 100)
    fund(db, father, 100)
    env = envelope(journal.HOMEWORK_ASSIGNED, homework())
    binding = worker_bindings["journal-homework"]
    assert handle(db, binding, env) is True
    assert handle(db, binding, env) is False  # redelivered: the inbox knows it

    [sms] = messages(db, kind="homework")
    assert sms["to"] == PHONE and sms["channel"] == "sms" and sms["account_id"] == mother
    assert "Дәулет" in sms["body"] and "Математика" in sms["body"] and "20.11" in sms["body"]
    assert messages(db, to="+77010000102") == []
    cost = 10 * sms["segments"]
    assert balance.current(db, mother) == 100 - cost
    assert balance.current(db, father) == 100
    [row] = list(db[store.LEDGER].find({"account_id": mother}))
    assert row["kind"] == "charge" and row["amount"] == -cost and row["ref"] == sms["_id"]

    # The same event reaching the handler by another queue's redelivery: no second charge.
    again = envelope(journal.HOMEWORK_ASSIGNED, homework())
    object.__setattr__(again, "id", env.id)
    assert handle(db, binding, again) is False
    assert len(messages(db, kind="homework")) == 1
    assert balance.current(db, mother) == 100 - cost


def test_no_balance_records_the_message_and_tells_the_parent_once(db, worker_bindings):
    mother = add_account(db)
    subscribe(db, mother)
    binding = worker_bindings["journal-homework"]
    for i in range(3):
        handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, homework(homework_id=f"hw-{i}")))
    unpaid = messages(db, kind="homework")
    assert [m["status"] for m in unpaid] == [store.NO_BALANCE] * 3
    notices = messages(db, kind="balance")
    assert len(notices) == 1
    assert notices[0]["channel"] == "email" and notices[0]["to"] == "parent@example.kz"
    assert balance.current(db, mother) == 0

    # Topped up, then run out again: a second notice, once more.
    fund(db, mother, 10)  # enough for one single-segment SMS at most
    handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, homework(homework_id="hw-a", text="1")))
    handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, homework(homework_id="hw-b", text="2")))
    handle(db, binding, envelope(journal.HOMEWORK_ASSIGNED, homework(homework_id="hw-c", text="3")))
    assert len(messages(db, kind="balance")) == 2
    assert balance.current(db, mother) >= 0


def test_invalid_journal_payloads_are_parked_not_retried(db, worker_bindings):
    bad = envelope(journal.HOMEWORK_ASSIGNED, homework())
    object.__setattr__(bad, "data", {**bad.data, "student_iin": "123"})
    with pytest.raises(Reject):
        handle(db, worker_bindings["journal-homework"], bad)
    bad = envelope(journal.GRADE_RECORDED, grade())
    object.__setattr__(bad, "data", {k: v for k, v in bad.data.items() if k != "grade"})
    with pytest.raises(Reject):
        handle(db, worker_bindings["journal-grades"], bad)
    assert messages(db) == []


def test_unknown_fields_are_ignored(db, worker_bindings):
    mother = add_account(db)
    subscribe(db, mother)
    fund(db, mother, 1000)
    env = envelope(journal.HOMEWORK_ASSIGNED, homework())
    object.__setattr__(env, "data", {**env.data, "teacher_name": "new field"})
    assert handle(db, worker_bindings["journal-homework"], env)
    assert len(messages(db, kind="homework")) == 1


def _week_of_grades(db, worker_bindings):
    binding = worker_bindings["journal-grades"]
    base = dt.datetime(2026, 11, 16, 5, 0, tzinfo=dt.UTC)  # Monday 10:00 in Almaty
    handle(db, binding, envelope(journal.GRADE_RECORDED, grade("g-1", "Физика", "4", base)))
    handle(db, binding, envelope(journal.GRADE_RECORDED, grade("g-2", "Математика", "5", base)))
    later = base + dt.timedelta(days=2)
    handle(db, binding, envelope(journal.GRADE_RECORDED, grade("g-3", "Математика", "3", later)))
    # A correction of g-3 (same grade_id, a later event): replaces it, never adds.
    handle(db, binding, envelope(journal.GRADE_RECORDED, grade("g-3", "Математика", "4", later)))
    # Another student's grade never shows in this digest.
    other = grade("g-9", "Химия", "2", later, student_iin=MOTHER_IIN)
    handle(db, binding, envelope(journal.GRADE_RECORDED, other))


def test_weekly_digest_lists_the_weeks_grades_once(deps, db, worker_bindings, clock):
    mother = add_account(db)
    subscribe(db, mother)
    fund(db, mother, 1000)
    _week_of_grades(db, worker_bindings)
    assert grades.run_digests(deps) == {}  # Wednesday: not due yet
    clock.now = dt.datetime(2026, 11, 22, 13, 5, tzinfo=dt.UTC)  # Sunday 18:05 in Almaty
    counts = grades.run_digests(deps)
    assert counts == {"queued": 1} or counts == {"held": 1}
    [sms] = messages(db, kind="grades_weekly")
    assert sms["body"] == "Оценки Дәулет за 16.11-22.11: Математика: 5, 4; Физика: 4"
    assert balance.current(db, mother) == 1000 - 10 * sms["segments"]
    # Run again, or later that evening: nothing more.
    assert grades.run_digests(deps) == {}
    clock.advance(hours=3)
    assert grades.run_digests(deps) == {}
    assert len(messages(db, kind="grades_weekly")) == 1


def test_no_grades_no_digest(deps, db, clock):
    mother = add_account(db)
    subscribe(db, mother)
    fund(db, mother, 1000)
    clock.now = dt.datetime(2026, 11, 22, 13, 5, tzinfo=dt.UTC)
    assert grades.run_digests(deps) == {"no_grades": 1}
    assert messages(db) == []
    assert balance.current(db, mother) == 1000


def test_a_grade_arriving_after_its_digest_goes_into_the_next(deps, db, worker_bindings, clock):
    mother = add_account(db)
    subscribe(db, mother)
    fund(db, mother, 1000)
    clock.now = dt.datetime(2026, 11, 22, 13, 5, tzinfo=dt.UTC)
    grades.run_digests(deps)
    late = grade("g-late", "История", "5", dt.datetime(2026, 11, 21, 5, 0, tzinfo=dt.UTC))
    handle(db, worker_bindings["journal-grades"], envelope(journal.GRADE_RECORDED, late))
    clock.now = dt.datetime(2026, 11, 29, 13, 5, tzinfo=dt.UTC)
    grades.run_digests(deps)
    [sms] = messages(db, kind="grades_weekly")
    assert "История: 5" in sms["body"] and "23.11-29.11" in sms["body"]


def test_digest_runs_racing_on_two_workers_send_once(deps, db, worker_bindings, clock):
    mothers = [add_account(db, phone=f"+7701000020{i}") for i in range(4)]
    for i, m in enumerate(mothers):
        subscribe(db, m, phone=f"+7701000020{i}")
        fund(db, m, 1000)
    _week_of_grades(db, worker_bindings)
    clock.now = dt.datetime(2026, 11, 22, 13, 5, tzinfo=dt.UTC)
    errors = []

    def run():
        try:
            grades.run_digests(deps)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    sent = messages(db, kind="grades_weekly")
    assert sorted(m["to"] for m in sent) == [f"+7701000020{i}" for i in range(4)]
    for m in mothers:
        assert balance.current(db, m) == 1000 - 10 * sent[0]["segments"]
        assert db[store.LEDGER].count_documents({"account_id": m}) == 1


def test_schedule_period_names_follow_the_setting(deps):
    sched = grades.schedule(deps)
    moment = sched.last_moment(dt.datetime(2026, 11, 22, 13, 5, tzinfo=dt.UTC))
    assert digest.period_key(moment) == "2026-11-22T13:00Z"


def test_muted_or_no_consent_means_no_sms_and_no_charge(db, worker_bindings):
    muted = add_account(db, phone="+77010000111")
    refused = add_account(db, phone="+77010000112")
    db[accounts.ACCOUNTS].update_one({"_id": refused}, {"$set": {"notifications_consent": False}})
    db[store.PREFERENCES].insert_one({"_id": muted, "kinds": {"homework": False}})
    for acc, phone in ((muted, "+77010000111"), (refused, "+77010000112")):
        subscribe(db, acc, phone=phone)
        fund(db, acc, 100)
    handle(db, worker_bindings["journal-homework"], envelope(journal.HOMEWORK_ASSIGNED, homework()))
    sent = messages(db, kind="homework")
    assert sorted(m["to"] for m in sent) == ["+77010000111", "+77010000112"]
    assert {m["status"] for m in sent} == {store.SUPPRESSED}
    assert balance.current(db, muted) == balance.current(db, refused) == 100
    assert messages(db, kind="balance") == []
