"""Messages between parents and teachers: who sees what, attachments, notices to the other side."""

from __future__ import annotations

import datetime as dt
import io
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import gridfs
from notify_school_support import *  # noqa: F403 - fixtures
from notify_school_support import STUDENT_IIN, add_account, envelope, handle, key, messages

from sms_notify import journal, store, worker
from sms_notify.domain.budgets import Budgets
from sms_notify.usecases import conversations

PDF = b"%PDF-1.4\n" + b"0" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500


SCHOOL = "school-17"


def journal_names(deps, student_iin=STUDENT_IIN, school=SCHOOL, class_name="7А", **extra):
    """The school journal's homework for the student: sms-notify learns where the child is."""
    data = {
        "homework_id": uuid.uuid4().hex,
        "student_iin": student_iin,
        "student_name": "Кенжебаев Дәулет",
        "school_id": school,
        "class_name": class_name,
        "subject": "Математика",
        "text": "§12",
        "assigned_at": dt.datetime(2026, 11, 18, 8, 0, tzinfo=dt.UTC),
        **extra,
    }
    binding = {b.name: b for b in worker.journal_bindings(deps)}["journal-homework"]
    assert handle(deps.db, binding, envelope(journal.HOMEWORK_ASSIGNED, data))


def people(db, minter, deps):
    """The mother of STUDENT_IIN (the registry says so) and a teacher of the school the
    journal has the child in."""
    parent = add_account(db, full_name="Айгерим Сейтова")
    teacher = add_account(
        db,
        roles=("teacher",),
        iin="880714327312",
        phone="+77010000301",
        email="teacher@school.kz",
        full_name="Марат Ахметов",
        language="kk",
        organization_id=SCHOOL,
    )
    journal_names(deps)
    return (
        parent,
        teacher,
        minter.headers(parent),
        minter.headers(teacher, roles=["teacher"]),
    )


def start(client, h, teacher, **over):
    body = {"teacher_account_id": teacher, "subject": "Контрольная", "text": "Добрый день!"}
    return client.post("/conversations", json={**body, **over}, headers=h)


def test_parent_writes_teacher_reads_and_replies(client, db, minter, deps):
    parent, teacher, ph, th = people(db, minter, deps)
    r = start(
        client, {**ph, **key()}, teacher, text="Добрый день! Как дела у Дәулета по математике?"
    )
    assert r.status_code == 201, r.json
    conv = r.json["conversation"]
    assert conv["my_role"] == "parent" and conv["teacher"]["name"] == "Марат Ахметов"

    # The teacher is told, by e-mail, with a short preview and not the whole text.
    [notice] = messages(db, kind="conversation")
    assert notice["to"] == "teacher@school.kz" and notice["channel"] == "email"
    assert "Айгерим Сейтова" in notice["body"]
    assert "математике?" not in notice["body"] and "…" in notice["body"]

    listed = client.get("/conversations", headers=th).json["items"]
    assert [c["id"] for c in listed] == [conv["id"]] and listed[0]["unread"] == 1
    msgs = client.get(f"/conversations/{conv['id']}/messages", headers=th).json["items"]
    assert msgs[0]["text"].startswith("Добрый день!") and msgs[0]["read_at"] is not None
    assert client.get("/conversations", headers=th).json["items"][0]["unread"] == 0

    r = client.post(
        f"/conversations/{conv['id']}/messages", json={"text": "Всё хорошо."}, headers=th
    )
    assert r.status_code == 201 and r.json["author_role"] == "teacher"
    parent_notice = messages(db, kind="conversation", account_id=parent)
    assert len(parent_notice) == 1 and parent_notice[0]["to"] == "parent@example.kz"
    assert client.get("/conversations", headers=ph).json["items"][0]["unread"] == 1
    page = client.get(f"/conversations/{conv['id']}/messages?limit=1", headers=ph).json
    assert [m["text"] for m in page["items"]] == ["Всё хорошо."] and page["next_cursor"]


def test_nobody_else_sees_it(client, db, minter, deps):
    _parent, teacher, ph, _th = people(db, minter, deps)
    conv = start(client, ph, teacher).json["conversation"]
    stranger = minter.headers(add_account(db))
    other_teacher = add_account(db, roles=("teacher",))
    oth = minter.headers(other_teacher, roles=["teacher"])
    for h in (stranger, oth):
        assert client.get("/conversations", headers=h).json["items"] == []
        assert client.get(f"/conversations/{conv['id']}/messages", headers=h).status_code == 404
        r = client.post(f"/conversations/{conv['id']}/messages", json={"text": "x"}, headers=h)
        assert r.status_code == 404
    assert client.get("/conversations").status_code == 401
    assert client.get(f"/conversations/{conv['id']}/messages").status_code == 401


def test_only_parents_start_and_only_with_teachers(client, db, minter, deps):
    _parent, teacher, ph, th = people(db, minter, deps)
    r = start(client, th, teacher)
    assert r.status_code == 403  # a teacher does not open conversations with parents here
    not_teacher = add_account(db)
    r = start(client, ph, not_teacher)
    assert r.status_code == 422 and r.json["code"] == "teacher_not_found"
    r = start(client, ph, "no-such-account")
    assert r.status_code == 422
    r = client.post("/conversations", json={"subject": "x"}, headers=ph)
    assert r.status_code == 422
    assert {p["name"] for p in r.json["invalid_params"]} >= {"teacher_account_id", "text"}
    r = client.post("/conversations", data="not json", headers=ph, content_type="text/plain")
    assert r.status_code == 400


def test_attachment_upload_and_download_only_by_the_two_sides(client, db, minter, deps):
    _parent, teacher, ph, th = people(db, minter, deps)
    r = client.post(
        "/conversations",
        data={
            "teacher_account_id": teacher,
            "text": "Справка во вложении",
            "attachment": (io.BytesIO(PDF), "справка.pdf", "application/pdf"),
        },
        headers=ph,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    conv_id = r.json["conversation"]["id"]
    att = r.json["message"]["attachment"]
    assert att["content_type"] == "application/pdf" and att["size"] == len(PDF)
    assert "[+ файл]" in messages(db, kind="conversation")[0]["body"]
    url = f"/conversations/{conv_id}/attachments/{att['file_id']}"
    for h in (ph, th):
        got = client.get(url, headers=h)
        assert got.status_code == 200 and got.data == PDF
        assert got.mimetype == "application/pdf"
        assert "attachment;" in got.headers["Content-Disposition"]
    stranger = minter.headers(add_account(db))
    assert client.get(url, headers=stranger).status_code == 404
    assert (
        client.get(f"/conversations/{conv_id}/attachments/nonsense", headers=ph).status_code == 404
    )

    # Another conversation's file cannot be fetched through this one.
    other = start(client, ph, teacher).json["conversation"]["id"]
    assert (
        client.get(f"/conversations/{other}/attachments/{att['file_id']}", headers=ph).status_code
        == 404
    )

    r = client.post(
        f"/conversations/{conv_id}/messages",
        data={"text": "Фото", "attachment": (io.BytesIO(PNG), "photo.png", "image/png")},
        headers=th,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201 and r.json["attachment"]["content_type"] == "image/png"


def test_attachments_are_checked_by_content(client, db, minter, deps):
    _parent, teacher, ph, _th = people(db, minter, deps)
    conv_id = start(client, ph, teacher).json["conversation"]["id"]
    url = f"/conversations/{conv_id}/messages"

    def send(data: bytes, name: str, ctype: str):
        return client.post(
            url,
            data={"text": "x", "attachment": (io.BytesIO(data), name, ctype)},
            headers=ph,
            content_type="multipart/form-data",
        )

    fake = send(b"MZ\x90\x00 not a pdf", "virus.pdf", "application/pdf")
    assert fake.status_code == 415 and fake.json["code"] == "attachment_type_not_allowed"
    mismatch = send(PNG, "a.pdf", "application/pdf")
    assert mismatch.status_code == 415 and mismatch.json["code"] == "attachment_type_mismatch"
    big = send(b"%PDF-" + b"0" * (64 * 1024), "big.pdf", "application/pdf")
    assert big.status_code == 413 and big.json["invalid_params"][0]["name"] == "attachment"
    # Bodies over the service's usual 1 MiB reach this route: the attachment's limit decides.
    bigger = send(b"%PDF-" + b"0" * (2 * 1024 * 1024), "big.pdf", "application/pdf")
    assert bigger.status_code == 413 and bigger.json["invalid_params"][0]["name"] == "attachment"
    empty = send(b"", "e.pdf", "application/pdf")
    assert empty.status_code == 422
    # Nothing was stored for the refused files.
    assert db["attachments.files"].count_documents({}) == 0
    texts = [m["text"] for m in db.conversation_messages.find({"conversation_id": conv_id})]
    assert texts == ["Добрый день!"]


def test_orphaned_files_are_swept_but_attached_ones_kept(client, db, minter, deps):
    _parent, teacher, ph, _th = people(db, minter, deps)
    r = client.post(
        "/conversations",
        data={
            "teacher_account_id": teacher,
            "text": "x",
            "attachment": (io.BytesIO(PDF), "a.pdf", "application/pdf"),
        },
        headers=ph,
        content_type="multipart/form-data",
    )
    kept = r.json["message"]["attachment"]["file_id"]
    bucket = gridfs.GridFSBucket(db, store.ATTACHMENTS)
    orphan = bucket.upload_from_stream("o.pdf", PDF, metadata={"message_id": "never-stored"})
    young = bucket.upload_from_stream("y.pdf", PDF, metadata={"message_id": "being-written"})
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    db["attachments.files"].update_many({"_id": {"$ne": young}}, {"$set": {"uploadDate": old}})
    assert conversations.sweep_orphans(deps) == 1
    left = {str(f["_id"]) for f in db["attachments.files"].find()}
    assert left == {kept, str(young)}
    assert str(orphan) not in left


def test_multipart_with_an_idempotency_key_stores_one_message(client, db, minter, deps):
    _parent, teacher, ph, _th = people(db, minter, deps)
    conv_id = start(client, ph, teacher).json["conversation"]["id"]
    h = {**ph, **key()}
    # A retry sends the very same bytes, boundary included.
    boundary = "fixed-boundary-for-the-retry"
    raw = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="text"\r\n\r\n'
            "Справка\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="attachment"; filename="s.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF-1.7\n"
        + b"1" * 100
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answers = [
        client.post(
            f"/conversations/{conv_id}/messages",
            data=raw,
            headers=h,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json["id"] == answers[1].json["id"]
    assert answers[0].json["attachment"]["content_type"] == "application/pdf"
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    assert db.conversation_messages.count_documents({"conversation_id": conv_id}) == 2
    assert db["attachments.files"].count_documents({}) == 1


def test_sms_notices_draw_on_the_writers_budget(client, db, minter, deps):
    """A parent writing many messages spends their own SMS budget, not the teacher's."""
    parent, teacher, ph, _th = people(db, minter, deps)
    db.accounts.update_one({"_id": teacher}, {"$set": {"email": None}})  # notices go by SMS
    deps.budgets = Budgets(per_account_day=2, platform_hour=1000)
    conv = start(client, ph, teacher).json["conversation"]["id"]
    for text in ("Второе", "Третье"):
        r = client.post(f"/conversations/{conv}/messages", json={"text": text}, headers=ph)
        assert r.status_code == 201
    notices = messages(db, kind="conversation", account_id=teacher)
    assert [n["status"] for n in notices].count(store.OVER_BUDGET) == 1
    assert {n["budget_account_id"] for n in notices} == {parent}
    counters = {d["bucket"] for d in db[store.SMS_BUDGETS].find({"bucket": {"$exists": True}})}
    assert not any(teacher in c for c in counters)
