"""Messages between parents and teachers (seed 004), with one attachment each.

A parent (citizen) starts a conversation with a teacher of one of their children; then both write
in it, for as long as the teacher teaches that child. "A teacher of the child" is what the events
say (``usecases/teaching.py``, ``domain.conversations.teaches``): the teachers the school
journal names for the child, else a ``teacher`` of the school the journal has the child in; the
kindergarten group's teachers, else a ``teacher`` of the kindergarten the child is enrolled in.
The child is the registry's (a school child) or the parent's own enrolment (kindergarten). Only
the two sides see a conversation: for anyone else it does not exist (404). Each new message
notifies the other side by e-mail or SMS, as their preferences say, with a short preview
only. These notices are free: they are part of the school's service to the family, not a paid
subscription; they are a ``conversation`` kind, so a person can mute them and quiet hours hold
them.

The documents (``conversations``, ``conversation_messages``, the GridFS bucket
``attachments``) are described in store.py. GridFS writes cannot join a transaction: the file
is stored first, then the message and its notice in one transaction; if that fails, the file
is removed again.
"""

from __future__ import annotations

import datetime as dt
import logging

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession

from edu_common import accounts, files, mongo, paging
from edu_common.clock import utcnow
from edu_common.files import Upload
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain.conversations import (
    PARENT,
    TEACHER,
    TEACHER_ROLES,
    preview,
    role_in,
    teaches,
)
from sms_notify.usecases import outgoing, teaching

log = logging.getLogger(__name__)


def check_upload(upload: Upload, max_bytes: int) -> str:
    """The file's real type; 413/415/422 problems name the ``attachment`` field."""
    return files.check(
        upload,
        max_bytes,
        field="attachment",
        code="attachment",
        not_allowed="Only PDF, JPEG and PNG files can be attached.",
    )


def _attachments(deps: Deps) -> files.FileStore:
    return files.FileStore(deps.db, store.ATTACHMENTS)


def _member(deps: Deps, conversation_id: str, account_id: str) -> tuple[dict, str]:
    conv = deps.db[store.CONVERSATIONS].find_one({"_id": conversation_id})
    role = role_in(conv, account_id) if conv else None
    if role is None:
        raise Problem(404, "not_found", "No such conversation of yours.")
    return conv, role


def start(
    deps: Deps,
    parent_id: str,
    teacher_id: str,
    subject: str | None,
    text: str,
    upload: Upload | None,
    student_iin: str | None = None,
) -> dict:
    """A parent writes to a teacher of their child: the new conversation and its first message.

    ``student_iin``: which child it is about (else the first of the parent's children the
    teacher teaches)."""
    parent = accounts.require(deps.db, parent_id)
    teaching.check_verified(parent)
    teacher = accounts.get(deps.db, teacher_id)
    if teacher is None or not set(teacher.get("roles") or []) & set(TEACHER_ROLES):
        raise Problem(
            422, "teacher_not_found", "No teacher has this account id.", field="teacher_account_id"
        )
    if teacher_id == parent_id:
        raise Problem(
            422, "same_account", "You cannot write to yourself.", field="teacher_account_id"
        )
    found = teaching.find_link(deps, parent, teacher, student_iin)
    if found is None:
        raise Problem(
            403,
            "not_your_childs_teacher",
            "This teacher does not teach your child (as the school journal or the kindergarten "
            "has it).",
            field="teacher_account_id",
        )
    link, child_name = found
    now = deps.now()
    conv = {
        "_id": store.sortable_id(now),
        "parent_id": parent_id,
        "teacher_id": teacher_id,
        "subject": (subject or "").strip() or None,
        "link_id": link["_id"],
        "child_name": child_name,
        "created_at": now,
        "last_message_at": now,
        "unread": {PARENT: 0, TEACHER: 0},
    }
    message = _post(deps, conv, parent, PARENT, text, upload, new_conversation=True)
    return {
        "conversation": view(conv, parent_id, names_of(deps, [conv])),
        "message": message_view(message),
    }


def post(
    deps: Deps, conversation_id: str, author_id: str, text: str, upload: Upload | None
) -> dict:
    """Either side writes in a conversation, while the teacher still teaches the child."""
    author = accounts.require(deps.db, author_id)
    conv, role = _member(deps, conversation_id, author_id)
    _still_teaches(deps, conv, role)
    return message_view(_post(deps, conv, author, role, text, upload))


def _still_teaches(deps: Deps, conv: dict, role: str) -> None:
    """403 when the teacher no longer teaches the conversation's child (moved, left): the
    parent may not go on writing to them, nor they to the parent."""
    teacher = accounts.get(deps.db, conv["teacher_id"])
    link = teaching.link_of(deps, conv.get("link_id"))
    holds = teacher is not None and link is not None and teaches(teacher, link)
    if teacher is not None and not holds and not conv.get("link_id"):
        # A conversation from before links were kept: any child of the parent will do.
        parent = accounts.get(deps.db, conv["parent_id"])
        found = teaching.find_link(deps, parent, teacher) if parent else None
        if found is not None:
            holds = True
            deps.db[store.CONVERSATIONS].update_one(
                {"_id": conv["_id"]},
                {"$set": {"link_id": found[0]["_id"], "child_name": found[1]}},
            )
    if holds:
        return
    if role == PARENT:
        raise Problem(
            403,
            "not_your_childs_teacher",
            "This teacher no longer teaches your child: the conversation can be read, not "
            "continued.",
        )
    raise Problem(
        403,
        "not_your_pupil",
        "You no longer teach this child: the conversation can be read, not continued.",
    )


def _post(
    deps: Deps,
    conv: dict,
    author: dict,
    role: str,
    text: str,
    upload: Upload | None,
    *,
    new_conversation: bool = False,
) -> dict:
    now = deps.now()
    message = {
        "_id": store.sortable_id(now),
        "conversation_id": conv["_id"],
        "author_id": author["_id"],
        "author_role": role,
        "text": text,
        "attachment": None,
        "created_at": now,
        "read_at": None,
    }
    file_id = None
    if upload is not None:
        real = check_upload(upload, deps.settings.attachment_max_bytes)
        message["attachment"] = _attachments(deps).put(
            upload,
            real,
            {
                "conversation_id": conv["_id"],
                "message_id": message["_id"],
                "uploader": author["_id"],
            },
        )
        file_id = message["attachment"]["file_id"]
    other_role = TEACHER if role == PARENT else PARENT

    def work(session: ClientSession) -> None:
        if new_conversation:
            deps.db[store.CONVERSATIONS].insert_one(conv, session=session)
        deps.db[store.CONVERSATION_MESSAGES].insert_one(message, session=session)
        deps.db[store.CONVERSATIONS].update_one(
            {"_id": conv["_id"]},
            {"$set": {"last_message_at": now}, "$inc": {f"unread.{other_role}": 1}},
            session=session,
        )
        _notify(deps, session, conv, author, role, message)

    try:
        mongo.in_transaction(deps.db, work)
    except BaseException:
        if file_id is not None:
            _attachments(deps).delete(file_id)
        raise
    return message


def _notify(deps: Deps, session, conv: dict, author: dict, role: str, message: dict) -> None:
    other_id = conv["teacher_id"] if role == PARENT else conv["parent_id"]
    other = deps.db[accounts.ACCOUNTS].find_one({"_id": other_id}, session=session)
    if other is None or other.get("active") is False:
        return
    prefs = deps.db[store.PREFERENCES].find_one({"_id": other_id}, session=session) or {}
    wanted = prefs.get("channels")
    wanted = list(wanted) if isinstance(wanted, list | tuple) else ["email", "sms"]
    address = {"email": other.get("email"), "sms": other.get("phone")}
    channel = next((c for c in wanted if address.get(c)), None)
    if channel is None:
        channel = next((c for c in ("email", "sms") if address.get(c)), None)
    if channel is None:
        log.warning("no address to notify of a message", extra={"conversation": conv["_id"]})
        return
    attached = " [+ файл]" if message["attachment"] else ""
    outgoing.enqueue(
        deps,
        session,
        event_id=f"conversation-message:{message['_id']}",
        kind="conversation",
        to=address[channel],
        channel=channel,
        language=other.get("language") or "ru",
        template="conversation_message",
        params={
            "sender": author.get("full_name") or ("Учитель" if role == TEACHER else "Родитель"),
            "preview": preview(message["text"], deps.settings.preview_chars) + attached,
            "subject": conv.get("subject") or preview(message["text"], 30),
        },
        account_id=other_id,
        # An SMS notice draws on the writer's budget: whoever writes a lot spends their own,
        # never the other side's (a parent could otherwise silence a teacher's notices).
        budget_account_id=author["_id"],
        now=deps.now(),
        conversation_id=conv["_id"],
    )


def mine(deps: Deps, account_id: str, *, limit: int, cursor: str | None) -> dict:
    """My conversations, as a parent or a teacher, newest first, with both sides' names."""
    accounts.require(deps.db, account_id)
    query = {"$or": [{"parent_id": account_id}, {"teacher_id": account_id}]}
    page = paging.keyset_page(
        deps.db[store.CONVERSATIONS], query, limit=limit, cursor=cursor, newest_first=True
    )
    names = names_of(deps, page["items"])
    page["items"] = [view(c, account_id, names) for c in page["items"]]
    return page


def read(
    deps: Deps, conversation_id: str, reader_id: str, *, limit: int, cursor: str | None
) -> dict:
    """A page of messages, newest first; the other side's among them are marked read."""
    accounts.require(deps.db, reader_id)
    _conv, role = _member(deps, conversation_id, reader_id)
    page = paging.keyset_page(
        deps.db[store.CONVERSATION_MESSAGES],
        {"conversation_id": conversation_id},
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    items = page["items"]
    unread = [m["_id"] for m in items if m["author_id"] != reader_id and m["read_at"] is None]
    if unread:
        now = deps.now()
        deps.db[store.CONVERSATION_MESSAGES].update_many(
            {"_id": {"$in": unread}, "read_at": None}, {"$set": {"read_at": now}}
        )
        for m in items:
            if m["_id"] in unread:
                m["read_at"] = now
        left = deps.db[store.CONVERSATION_MESSAGES].count_documents(
            {"conversation_id": conversation_id, "author_id": {"$ne": reader_id}, "read_at": None}
        )
        deps.db[store.CONVERSATIONS].find_one_and_update(
            {"_id": conversation_id},
            {"$set": {f"unread.{role}": left}},
            return_document=ReturnDocument.AFTER,
        )
    page["items"] = [message_view(m) for m in items]
    return page


def attachment(deps: Deps, conversation_id: str, file_id: str, account_id: str):
    """(file name, content type, bytes) of an attachment; 404 for anyone but the two sides."""
    _member(deps, conversation_id, account_id)
    return _attachments(deps).get(file_id, {"conversation_id": conversation_id})


def view(conv: dict, me: str, names: dict[str, str | None]) -> dict:
    role = role_in(conv, me)
    return {
        "id": conv["_id"],
        "subject": conv.get("subject"),
        "parent": {"account_id": conv["parent_id"], "name": names.get(conv["parent_id"])},
        "teacher": {"account_id": conv["teacher_id"], "name": names.get(conv["teacher_id"])},
        "child_name": conv.get("child_name"),
        "created_at": conv["created_at"],
        "last_message_at": conv.get("last_message_at"),
        "unread": int((conv.get("unread") or {}).get(role, 0)),
        "my_role": role,
    }


def names_of(deps: Deps, convs: list[dict]) -> dict[str, str | None]:
    ids = {c["parent_id"] for c in convs} | {c["teacher_id"] for c in convs}
    found = deps.db[accounts.ACCOUNTS].find({"_id": {"$in": list(ids)}}, {"full_name": 1})
    return {a["_id"]: a.get("full_name") for a in found}


def message_view(m: dict) -> dict:
    return {
        "id": m["_id"],
        "author_account_id": m["author_id"],
        "author_role": m["author_role"],
        "text": m["text"],
        "attachment": m.get("attachment"),
        "created_at": m["created_at"],
        "read_at": m.get("read_at"),
    }


def sweep_orphans(deps: Deps, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Remove attachments whose message was never stored (the process died between the two).

    Only files older than ``older_than``: a younger one may belong to a message being written.
    """
    # GridFS stamps uploadDate with the wall clock, not deps' clock.
    cutoff = utcnow() - older_than

    def known(f: dict) -> bool:
        message_id = (f.get("metadata") or {}).get("message_id")
        return (
            bool(message_id)
            and deps.db[store.CONVERSATION_MESSAGES].find_one({"_id": message_id}, {"_id": 1})
            is not None
        )

    removed = _attachments(deps).orphans(cutoff, known)
    if removed:
        log.info("orphaned attachments removed", extra={"count": removed})
    return removed
