"""Callbacks from the SMS providers: signed delivery reports."""

from __future__ import annotations

import json

from flask import request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from edu_common.web import problems
from edu_common.web.problems import Problem
from sms_notify import schemas as s
from sms_notify.api.common import deps
from sms_notify.usecases import delivery_reports

SIGNATURE_HEADER = "X-Signature"

blp = Blueprint("providers", __name__, description="Callbacks from SMS providers.")


@blp.route("/providers/<name>/delivery-reports", methods=["POST"])
@blp.response(200, s.ReportResult)
@blp.alt_response(401, description="Missing or wrong signature (invalid_signature)")
def delivery_reports_of(name):
    """Delivery reports, signed: header ``X-Signature: sha256=<hex HMAC-SHA256 of the body>``.

    Body ``{"reports": [{"id": provider message id, "status": "delivered" | "undelivered" |
    the provider's own word or code}]}``. Repeats change nothing.
    """
    raw = request.get_data(cache=True)
    delivery_reports.check(deps(), name, raw, request.headers.get(SIGNATURE_HEADER, ""))
    try:
        body = s.ReportBody().load(json.loads(raw or b"null"))
    except (ValueError, TypeError):
        raise Problem(400, "malformed_json", "The body is not JSON.") from None
    except ValidationError as exc:
        raise Problem(
            422, "validation_failed", invalid_params=problems._invalid_params(exc.messages)
        ) from None
    return delivery_reports.apply(deps(), name, body["reports"])
