"""Messages between parents and teachers, JSON or multipart with one attachment."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from edu_common.web import auth
from edu_common.web.app import body_limit
from edu_common.web.problems import Problem
from sms_notify import schemas as s
from sms_notify.api.common import caller_id, deps, once
from sms_notify.settings import Settings
from sms_notify.usecases import conversations

# A message may carry one attachment: its limit and room for the multipart envelope. body_limit
# takes a number when the views are declared, so this one setting is read at import; each file
# is checked against deps' settings again by the use case.
UPLOAD_BODY = Settings.from_env().attachment_max_bytes + 256 * 1024

blp = Blueprint(
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


@blp.route("")
@body_limit(UPLOAD_BODY)
class Conversations(MethodView):
    @auth.require()
    @blp.arguments(s.PageArgs, location="query")
    @blp.response(200, s.ConversationPage)
    def get(self, args):
        """My conversations, as a parent or a teacher, newest first."""
        return conversations.mine(deps(), caller_id(), limit=args["limit"], cursor=args["cursor"])

    @auth.require("citizen")
    @once
    @blp.doc(**_FORM_DOC)
    @blp.response(201, s.ConversationCreated)
    def post(self):
        """A parent writes to a teacher of their child (JSON, or multipart with one
        ``attachment``): 403 ``not_your_childs_teacher`` for any other teacher."""
        body, upload = _input(s.ConversationInput)
        return conversations.start(
            deps(),
            caller_id(),
            body["teacher_account_id"],
            body.get("subject"),
            body["text"],
            upload,
            student_iin=body.get("student_iin"),
        )


@blp.route("/<conversation_id>/messages")
@body_limit(UPLOAD_BODY)
class ConversationMessages(MethodView):
    @auth.require()
    @blp.arguments(s.PageArgs, location="query")
    @blp.response(200, s.MessagePage)
    def get(self, args, conversation_id):
        """Messages, newest first; reading marks the other side's messages read."""
        return conversations.read(
            deps(), conversation_id, caller_id(), limit=args["limit"], cursor=args["cursor"]
        )

    @auth.require()
    @once
    @blp.doc(**_FORM_DOC)
    @blp.response(201, s.MessageView)
    def post(self, conversation_id):
        """Write in a conversation (JSON, or multipart with one ``attachment``), while the
        teacher teaches the child: else 403 (``not_your_childs_teacher`` / ``not_your_pupil``)."""
        body, upload = _input(s.MessageInput)
        return conversations.post(deps(), conversation_id, caller_id(), body["text"], upload)


@blp.route("/<conversation_id>/attachments/<file_id>", methods=["GET"])
@auth.require()
@blp.response(200, description="The file")
def download_attachment(conversation_id, file_id):
    """An attachment; only the two sides of the conversation can download it."""
    name, content_type, data = conversations.attachment(
        deps(), conversation_id, file_id, caller_id()
    )
    resp = Response(data, mimetype=content_type)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp
