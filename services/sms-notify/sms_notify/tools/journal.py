"""Publish sample school-journal events in development (the real journal publishes them).

    python -m sms_notify.tools.journal grade --iin 081009542946 --subject Математика --grade 5
    python -m sms_notify.tools.journal homework --iin 081009542946 --subject Физика \
        --text "§12, задачи 1-5" --due 2026-11-25

The broker is ``AMQP_URL`` (the development one by default). Events are published on the
exchange ``journal.events`` exactly as JOURNAL.md describes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid

from kombu import Producer

from edu_common import bus
from edu_common.envelope import Envelope, EventType
from edu_common.kz.iin import mask_iin
from sms_notify import journal
from sms_notify.settings import Settings


def publish(amqp_url: str, event: EventType, data: dict) -> Envelope:
    """Publish one event, persistent and with publisher confirms; answers its envelope."""
    envelope = event.make(data)
    publish_envelope(amqp_url, event, envelope)
    return envelope


def publish_envelope(amqp_url: str, event: EventType, envelope: Envelope) -> None:
    """Publish an envelope as it is (the same one twice is how a redelivery looks)."""
    with bus.connection(amqp_url) as conn:
        exchange = bus.topic_exchange(event.exchange)
        producer = Producer(conn.channel(), exchange=exchange)
        exchange(producer.channel).declare()
        producer.publish(
            json.dumps(envelope.to_dict(), ensure_ascii=False),
            routing_key=event.routing_key,
            content_type="application/json",
            content_encoding="utf-8",
            message_id=envelope.id,
            type=event.routing_key,
            delivery_mode=2,
            retry=True,
        )


def grade_data(args) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {
        "grade_id": args.grade_id or uuid.uuid4().hex,
        "student_iin": args.iin,
        "student_name": args.name,
        "school_id": args.school,
        "class_name": args.class_name,
        "subject": args.subject,
        "grade": args.grade,
        "kind": args.grade_kind,
        "lesson_date": now.date(),
        "recorded_at": now,
    }


def homework_data(args) -> dict:
    return {
        "homework_id": args.homework_id or uuid.uuid4().hex,
        "student_iin": args.iin,
        "student_name": args.name,
        "school_id": args.school,
        "class_name": args.class_name,
        "subject": args.subject,
        "text": args.text,
        "due_date": dt.date.fromisoformat(args.due) if args.due else None,
        "assigned_at": dt.datetime.now(dt.UTC),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sms_notify.tools.journal", description=__doc__)
    p.add_argument("--amqp-url", default=None, help="default: the settings' AMQP_URL")
    kinds = p.add_subparsers(dest="event", required=True)
    for name in ("grade", "homework"):
        k = kinds.add_parser(name)
        k.add_argument("--iin", required=True, help="the student's IIN")
        k.add_argument("--name", default=None, help="the student's name: 'Surname Name'")
        k.add_argument("--school", default="school-1")
        k.add_argument("--class-name", default="7А")
        k.add_argument("--subject", required=True)
        if name == "grade":
            k.add_argument("--grade", required=True)
            k.add_argument("--kind", dest="grade_kind", default="lesson", help="lesson, СОР, СОЧ")
            k.add_argument("--grade-id", default=None, help="reuse one to correct a grade")
        else:
            k.add_argument("--text", required=True)
            k.add_argument("--due", default=None, help="YYYY-MM-DD")
            k.add_argument("--homework-id", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.event == "grade":
        event, data = journal.GRADE_RECORDED, grade_data(args)
    else:
        event, data = journal.HOMEWORK_ASSIGNED, homework_data(args)
    try:
        envelope = publish(args.amqp_url or Settings.from_env().amqp_url, event, data)
    except Exception as exc:  # a CLI: say what failed, briefly
        print(f"not published: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"published {event.routing_key} {envelope.id} for student {mask_iin(args.iin)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
