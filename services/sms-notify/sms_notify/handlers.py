"""The use cases: one function per event this service consumes."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping

from marshmallow import ValidationError

from edu_common.consumer import HandlerContext, Reject
from edu_common.envelope import Envelope
from sms_notify import delivery, store, templates
from sms_notify.channels import Channel
from sms_notify.events import CodeRequested

log = logging.getLogger(__name__)

# Kazakhstan has kept one time zone, UTC+5, since 1 March 2024.
KZ_TIME = dt.timezone(dt.timedelta(hours=5), "Astana")


def code_message(envelope: Envelope, data: dict, now: dt.datetime) -> dict:
    """The message for a requested code, its text stored with the code masked."""
    expires_at: dt.datetime = data["expires_at"]
    # From the event's own time, so a redelivery renders the very same text.
    minutes = max(1, math.ceil((expires_at - envelope.occurred_at).total_seconds() / 60))
    params = {
        "code": store.CODE_MASK,
        "minutes": minutes,
        "valid_until": expires_at.astimezone(KZ_TIME).strftime("%d.%m.%Y %H:%M"),
    }
    text = templates.render(data["purpose"], data["channel"], data["language"], params)
    if store.CODE_MASK not in text.body:
        raise templates.TemplateError(f"the {data['purpose']} text does not show the code")
    message = store.new_message(
        event_id=envelope.id,
        kind="code",
        purpose=data["purpose"],
        channel=data["channel"],
        to=data["to"],
        language=text.language,
        subject=text.subject,
        body=text.body,
        secret={"code": data["code"]},
        now=now,
        expires_at=expires_at,
        requested_language=data["language"],
        challenge_id=data["challenge_id"],
        account_id=data["account_id"],
        correlation_id=envelope.correlation_id,
    )
    if expires_at <= now:
        # Arrived too late (a long outage): a dead code is not sent, nor kept.
        del message["secret"], message["next_attempt_at"]
        message.update(status=store.FAILED, failed_at=now, last_error="expired before it arrived")
    return message


def on_code_requested(
    envelope: Envelope,
    ctx: HandlerContext,
    *,
    channels: Mapping[str, Channel],
    policy: delivery.Policy = delivery.DEFAULT_POLICY,
    clock: delivery.Clock = delivery.utcnow,
) -> None:
    try:
        data = CodeRequested().load(envelope.data)
    except ValidationError as exc:
        # Retrying cannot fix a payload: park it at once (the error names fields, not values).
        raise Reject(f"invalid code.requested payload: {sorted(exc.messages)}") from exc
    message = code_message(envelope, data, clock())
    if not store.insert_once(ctx.db, message, session=ctx.session):
        log.info("message for this event already stored", extra={"event_id": envelope.id})
        return
    log.info(
        "message queued",
        extra={
            "message_id": message["_id"],
            "event_id": envelope.id,
            "channel": message["channel"],
            "purpose": message["purpose"],
            "status": message["status"],
        },
    )
    if message["status"] == store.QUEUED:
        db, message_id = ctx.db, message["_id"]
        # A first attempt right away; whatever it leaves behind, the sweep picks up.
        ctx.after_commit(
            lambda: delivery.deliver(db, channels, message_id, policy=policy, clock=clock)
        )
