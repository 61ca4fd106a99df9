"""Callbacks from the outside: the SMS providers' signed delivery reports, and the payment
provider's signed word on a top-up (PAYMENTS.md). No token: the signature is the proof."""

from __future__ import annotations

import json

from flask import request
from flask_smorest import Blueprint
from marshmallow import ValidationError

from edu_common.web import problems
from edu_common.web.problems import Problem
from sms_notify import schemas as s
from sms_notify.api.common import deps
from sms_notify.usecases import balance, delivery_reports

SIGNATURE_HEADER = "X-Signature"

blp = Blueprint(
    "providers", __name__, description="Callbacks from SMS providers and the payment provider."
)


def _body(schema, raw: bytes) -> dict:
    try:
        return schema().load(json.loads(raw or b"null"))
    except (ValueError, TypeError):
        raise Problem(400, "malformed_json", "The body is not JSON.") from None
    except ValidationError as exc:
        raise Problem(
            422, "validation_failed", invalid_params=problems._invalid_params(exc.messages)
        ) from None


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
    body = _body(s.ReportBody, raw)
    return delivery_reports.apply(deps(), name, body["reports"])


@blp.route("/providers/payments/callback", methods=["POST"])
@blp.response(200, s.PaymentCallbackResult)
@blp.alt_response(401, description="Missing or wrong signature (invalid_signature)")
@blp.alt_response(404, description="No such top-up and payment (unknown_payment)")
@blp.alt_response(422, description="Not the top-up's amount (amount_mismatch), or a bad body")
def payment_callback():
    """The payment provider's outcome of a payment, signed: ``X-Signature: sha256=<hex
    HMAC-SHA256 of the raw body with PAYMENT_CALLBACK_SECRET>``.

    Body ``{"payment_id", "reference" (our top-up id), "status": "paid" | "declined" |
    "pending", "amount", "currency"}``. ``paid`` credits the top-up once; a repeat answers 200
    and credits nothing.
    """
    raw = request.get_data(cache=True)
    balance.check_callback(deps(), raw, request.headers.get(SIGNATURE_HEADER, ""))
    return balance.on_callback(deps(), _body(s.PaymentCallbackBody, raw))
