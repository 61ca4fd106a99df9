"""The prepaid SMS balance: what is left, top-ups, the ledger."""

from __future__ import annotations

from flask import request
from flask_smorest import Blueprint

from edu_common.web import auth
from sms_notify import schemas as s
from sms_notify.api.common import caller_id, deps, once
from sms_notify.usecases import balance

blp = Blueprint("balance", __name__, url_prefix="/balance", description="The prepaid SMS balance.")


@blp.route("", methods=["GET"])
@auth.require("citizen")
@blp.response(200, s.BalanceView)
def get_balance():
    """My balance, and what one SMS part of a subscription costs."""
    return balance.view(deps(), caller_id())


@blp.route("/top-ups", methods=["POST"])
@auth.require("citizen")
@once
@blp.arguments(s.TopUpInput)
@blp.response(202, s.TopUpView)
@blp.alt_response(402, description="The provider declined the payment (payment_declined)")
@blp.alt_response(428, description="No Idempotency-Key header (idempotency_key_required)")
@blp.alt_response(503, description="The payment provider is unavailable (payment_unavailable)")
@blp.doc(
    parameters=[
        {"in": "header", "name": "Idempotency-Key", "required": True, "schema": {"type": "string"}}
    ]
)
def top_up(body):
    """Start a top-up: 202 ``pending`` with the provider's ``redirect_url`` to pay on.

    The balance grows only when the provider's signed callback says paid. The Idempotency-Key
    header is required: the same key is the same top-up and the same payment.
    """
    view, _made = balance.top_up(
        deps(), caller_id(), body["amount"], request.headers.get("Idempotency-Key")
    )
    return view


@blp.route("/top-ups/<top_up_id>", methods=["GET"])
@auth.require("citizen")
@blp.response(200, s.TopUpView)
def get_top_up(top_up_id):
    """One of my top-ups as it stands (back from the provider's page: paid yet?)."""
    return balance.top_up_of(deps(), caller_id(), top_up_id)


@blp.route("/ledger", methods=["GET"])
@auth.require("citizen")
@blp.arguments(s.PageArgs, location="query")
@blp.response(200, s.LedgerPage)
def get_ledger(args):
    """Every top-up and charge, newest first."""
    return balance.ledger(deps(), caller_id(), limit=args["limit"], cursor=args["cursor"])
