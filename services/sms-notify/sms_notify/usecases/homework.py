"""Homework from the school journal: one paid SMS per subscribed phone, at once."""

from __future__ import annotations

from edu_common.consumer import HandlerContext
from edu_common.envelope import Envelope
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.journal import HomeworkAssigned
from sms_notify.usecases import teaching
from sms_notify.usecases.common import payload
from sms_notify.usecases.subscriptions import first_name, payers, send_paid

HOMEWORK_PREVIEW = 120  # characters of the homework text in the SMS: every segment is paid


def on_homework_assigned(deps: Deps, envelope: Envelope, ctx: HandlerContext) -> None:
    data = payload(HomeworkAssigned, envelope)
    teaching.note_journal(deps, ctx.session, data, envelope)
    subs = (
        deps.db[store.SUBSCRIPTIONS]
        .find({"student_iin": data["student_iin"], "kinds": "homework"}, session=ctx.session)
        .sort([("created_at", 1), ("_id", 1)])
    )
    text = " ".join(data["text"].split())
    if len(text) > HOMEWORK_PREVIEW:
        text = text[: HOMEWORK_PREVIEW - 1].rstrip() + "…"
    due = data.get("due_date")
    for sub, account in payers(deps, ctx.session, subs):
        name = first_name(data.get("student_name")) or sub.get("student_name") or ""
        send_paid(
            deps,
            ctx.session,
            sub=sub,
            account=account,
            event_id=envelope.id,
            kind="homework",
            params={
                "student": name,
                "subject": data["subject"],
                "text": text,
                "due": due.strftime("%d.%m") if due else "-",
            },
        )
