"""HTTP API of subscriptions, the prepaid SMS balance and conversations with teachers.

Thin handlers: who is asking, parse, call a use case, shape the answer. ``app.py`` registers
``BLUEPRINTS``. The use cases' dependencies are ``app.extensions["sms-notify-school"]`` when the
composition root (or a test) put them there, otherwise built once from the service's deps.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from edu_common.config import env_int
from edu_common.web import auth
from edu_common.web.app import body_limit
from edu_common.web.idempotency import idempotent
from edu_common.web.problems import Problem
from sms_notify import schemas_school as s
from sms_notify.settings_school import SchoolDeps
from sms_notify.usecases import balance, conversations, subscriptions

EXTENSION = "sms-notify-school"
# A message may carry one attachment: its limit and room for the multipart envelope.
UPLOAD_BODY = env_int("ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024) + 256 * 1024


def school() -> SchoolDeps:
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = SchoolDeps(current_app.extensions["sms-notify"])
        current_app.extensions[EXTENSION] = found
    return found


once = idempotent(lambda: school().db)


def me() -> str:
    return auth.current_principal().account_id


def _page(items, next_cursor, view=lambda d: d) -> dict:
    return {"items": [view(i) for i in items], "next_cursor": next_cursor}


# --- subscriptions -------------------------------------------------------------------------
subs = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/subscriptions",
    description="A parent's SMS subscriptions to a student's homework and weekly grades.",
)


@subs.route("")
class Subscriptions(MethodView):
    @auth.require("citizen")
    @subs.arguments(s.PageArgs, location="query")
    @subs.response(200, s.SubscriptionPage)
    def get(self, args):
        """My subscriptions, newest first."""
        return _page(
            *subscriptions.mine(school(), me(), limit=args["limit"], cursor=args["cursor"])
        )

    @auth.require("citizen")
    @once
    @subs.arguments(s.SubscriptionInput)
    @subs.response(201, s.SubscriptionView)
    @subs.alt_response(403, description="Not your child (not_your_child) or phone not confirmed")
    @subs.alt_response(409, description="This phone is subscribed already (subscription_exists)")
    def post(self, body):
        """Subscribe a phone to a student's ``homework`` and/or ``grades_weekly``.

        The phone is the account's own, or one confirmed with a code first. When the
        population registry knows the student, only their parent may subscribe. Each SMS is
        paid from the prepaid balance.
        """
        return subscriptions.create(
            school(), me(), body["student_iin"], body["phone"], body["kinds"]
        )


@subs.route("/<subscription_id>", methods=["DELETE"])
@auth.require("citizen")
@subs.response(204)
def delete_subscription(subscription_id):
    """Unsubscribe."""
    subscriptions.delete(school(), me(), subscription_id)


@subs.route("/phone-confirmations", methods=["POST"])
@auth.require("citizen")
@once
@subs.arguments(s.PhoneInput)
@subs.response(201, s.PhoneConfirmationView)
@subs.alt_response(429, description="Too many codes; see Retry-After")
def start_phone_confirmation(body):
    """Send a 6-digit code to a phone that is not the account's own (valid 10 minutes)."""
    return subscriptions.start_confirmation(school(), me(), body["phone"])


@subs.route("/phone-confirmations/<confirmation_id>", methods=["POST"])
@auth.require("citizen")
@once
@subs.arguments(s.CodeInput)
@subs.response(200, s.PhoneConfirmationView)
@subs.alt_response(422, description="Wrong code (code_invalid), with attempts_left")
@subs.alt_response(410, description="The code has expired (code_expired)")
def confirm_phone(body, confirmation_id):
    """The code from the SMS; the phone can then be subscribed. Five tries."""
    return subscriptions.confirm(school(), me(), confirmation_id, body["code"])


# --- balance -------------------------------------------------------------------------------
bal = Blueprint("balance", __name__, url_prefix="/balance", description="The prepaid SMS balance.")


@bal.route("", methods=["GET"])
@auth.require("citizen")
@bal.response(200, s.BalanceView)
def get_balance():
    """My balance, and what one SMS part of a subscription costs."""
    return balance.view(school(), me())


@bal.route("/top-ups", methods=["POST"])
@auth.require("citizen")
@once
@bal.arguments(s.TopUpInput)
@bal.response(201, s.TopUpView)
@bal.alt_response(402, description="The payment was declined (payment_declined)")
@bal.alt_response(428, description="No Idempotency-Key header (idempotency_key_required)")
@bal.doc(
    parameters=[
        {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}}
    ]
)
def top_up(body):
    """Pay in; the Idempotency-Key header is required, so a retry never pays twice."""
    view, _made = balance.top_up(
        school(), me(), body["amount"], request.headers.get("Idempotency-Key")
    )
    return view


@bal.route("/ledger", methods=["GET"])
@auth.require("citizen")
@bal.arguments(s.PageArgs, location="query")
@bal.response(200, s.LedgerPage)
def get_ledger(args):
    """Every top-up and charge, newest first."""
    return _page(*balance.ledger(school(), me(), limit=args["limit"], cursor=args["cursor"]))


# --- conversations -------------------------------------------------------------------------
conv = Blueprint(
    "conversations",
    __name__,
    url_prefix="/conversations",
    description="Messages between parents and teachers, with one attachment each.",
)

_FORM_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "attachment": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, JPEG or PNG; size limit ATTACHMENT_MAX_BYTES",
                        }
                    },
                }
            }
        }
    }
}


def _input(schema) -> tuple[dict, conversations.Upload | None]:
    """JSON, or multipart/form-data with an optional single ``attachment`` file."""
    upload = None
    if request.mimetype == "multipart/form-data":
        raw = request.form.to_dict()
        files = request.files.getlist("attachment")
        if len(files) > 1 or len(request.files) > len(files):
            raise Problem(
                422, "one_attachment", "Attach one file, named attachment.", field="attachment"
            )
        if files:
            f = files[0]
            upload = conversations.Upload(f.filename or "file", f.mimetype, f.read())
    else:
        raw = request.get_json(silent=True)
        if not isinstance(raw, dict):
            raise Problem(400, "malformed_json", "Send a JSON object or multipart/form-data.")
    try:
        return schema().load(raw), upload
    except ValidationError as exc:
        params = [
            {
                "name": name,
                "reason": "; ".join(map(str, why)) if isinstance(why, list) else str(why),
            }
            for name, why in exc.messages.items()
        ]
        raise Problem(422, "validation_failed", invalid_params=params) from None


@conv.route("")
@body_limit(UPLOAD_BODY)
class Conversations(MethodView):
    @auth.require()
    @conv.arguments(s.PageArgs, location="query")
    @conv.response(200, s.ConversationPage)
    def get(self, args):
        """My conversations, as a parent or a teacher, newest first."""
        items, cursor = conversations.mine(
            school(), me(), limit=args["limit"], cursor=args["cursor"]
        )
        names = conversations.names_of(school(), items)
        return _page(items, cursor, lambda c: conversations.view(c, me(), names))

    @auth.require("citizen")
    @once
    @conv.doc(**_FORM_DOC)
    @conv.response(201, s.ConversationCreated)
    def post(self):
        """A parent writes to a teacher (JSON, or multipart with one ``attachment``)."""
        body, upload = _input(s.ConversationInput)
        c, m = conversations.start(
            school(), me(), body["teacher_account_id"], body.get("subject"), body["text"], upload
        )
        names = conversations.names_of(school(), [c])
        return {
            "conversation": conversations.view(c, me(), names),
            "message": conversations.message_view(m),
        }


@conv.route("/<conversation_id>/messages")
@body_limit(UPLOAD_BODY)
class ConversationMessages(MethodView):
    @auth.require()
    @conv.arguments(s.PageArgs, location="query")
    @conv.response(200, s.MessagePage)
    def get(self, args, conversation_id):
        """Messages, newest first; reading marks the other side's messages read."""
        items, cursor = conversations.read(
            school(), conversation_id, me(), limit=args["limit"], cursor=args["cursor"]
        )
        return _page(items, cursor, conversations.message_view)

    @auth.require()
    @once
    @conv.doc(**_FORM_DOC)
    @conv.response(201, s.MessageView)
    def post(self, conversation_id):
        """Write in a conversation (JSON, or multipart with one ``attachment``)."""
        body, upload = _input(s.MessageInput)
        m = conversations.post(school(), conversation_id, me(), body["text"], upload)
        return conversations.message_view(m)


@conv.route("/<conversation_id>/attachments/<file_id>", methods=["GET"])
@auth.require()
@conv.response(200, description="The file")
def download_attachment(conversation_id, file_id):
    """An attachment; only the two sides of the conversation can download it."""
    name, content_type, data = conversations.attachment(school(), conversation_id, file_id, me())
    resp = Response(data, mimetype=content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


BLUEPRINTS = [subs, bal, conv]
