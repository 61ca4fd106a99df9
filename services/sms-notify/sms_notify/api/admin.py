"""Operators: every message to an address, dead letters and their re-sending."""

from __future__ import annotations

from flask_smorest import Blueprint

from edu_common.web import auth
from sms_notify import schemas as s
from sms_notify.api.common import ADMIN, deps, once
from sms_notify.usecases import dead_letters, messages

blp = Blueprint("admin", __name__, description="Operators: messages and dead letters.")


@blp.route("/messages")
@auth.require(ADMIN)
@blp.arguments(s.AdminMessageArgs, location="query")
@blp.response(200, s.NotificationPage)
def messages_to(args):
    """Every message to one phone or e-mail, newest first (admins)."""
    return messages.sent_to(deps(), args["to"], limit=args["limit"], cursor=args["cursor"])


@blp.route("/dead-letters")
@auth.require(ADMIN)
@blp.arguments(s.DeadLetterArgs, location="query")
@blp.response(200, s.DeadLetterPage)
def list_dead_letters(args):
    """Messages that failed for good (codes excepted: people ask for a new one)."""
    return dead_letters.listing(
        deps(), args.get("status"), limit=args["limit"], cursor=args["cursor"]
    )


@blp.route("/dead-letters/<letter_id>/resend", methods=["POST"])
@auth.require(ADMIN)
@once
@blp.response(202, s.Resent)
@blp.alt_response(409, description="Re-sent before (already_resent, with its message_id)")
def resend(letter_id):
    """Queue the message again, once: a second call answers 409 with the first copy's id."""
    return {"message_id": dead_letters.resend(deps(), letter_id)}
