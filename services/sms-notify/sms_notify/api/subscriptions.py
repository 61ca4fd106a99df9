"""A parent's paid SMS subscriptions to a student's homework and weekly grades, and the phone
confirmations they may need."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth
from sms_notify import schemas as s
from sms_notify.api.common import caller_id, deps, once
from sms_notify.usecases import subscriptions

blp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/subscriptions",
    description="A parent's SMS subscriptions to a student's homework and weekly grades.",
)


@blp.route("")
class Subscriptions(MethodView):
    @auth.require("citizen")
    @blp.arguments(s.PageArgs, location="query")
    @blp.response(200, s.SubscriptionPage)
    def get(self, args):
        """My subscriptions, newest first."""
        return subscriptions.mine(deps(), caller_id(), limit=args["limit"], cursor=args["cursor"])

    @auth.require("citizen")
    @once
    @blp.arguments(s.SubscriptionInput)
    @blp.response(201, s.SubscriptionView)
    @blp.alt_response(403, description="Not your child (not_your_child) or phone not confirmed")
    @blp.alt_response(409, description="This phone is subscribed already (subscription_exists)")
    def post(self, body):
        """Subscribe a phone to a student's ``homework`` and/or ``grades_weekly``.

        The phone is the account's own, or one confirmed with a code first. When the
        population registry knows the student, only their parent may subscribe. Each SMS is
        paid from the prepaid balance.
        """
        return subscriptions.create(
            deps(), caller_id(), body["student_iin"], body["phone"], body["kinds"]
        )


@blp.route("/<subscription_id>", methods=["DELETE"])
@auth.require("citizen")
@blp.response(204)
def delete_subscription(subscription_id):
    """Unsubscribe."""
    subscriptions.delete(deps(), caller_id(), subscription_id)


@blp.route("/phone-confirmations", methods=["POST"])
@auth.require("citizen")
@once
@blp.arguments(s.PhoneInput)
@blp.response(201, s.PhoneConfirmationView)
@blp.alt_response(429, description="Too many codes; see Retry-After")
def start_phone_confirmation(body):
    """Send a 6-digit code to a phone that is not the account's own (valid 10 minutes)."""
    return subscriptions.start_confirmation(deps(), caller_id(), body["phone"])


@blp.route("/phone-confirmations/<confirmation_id>", methods=["POST"])
@auth.require("citizen")
@once
@blp.arguments(s.CodeInput)
@blp.response(200, s.PhoneConfirmationView)
@blp.alt_response(422, description="Wrong code (code_invalid), with attempts_left")
@blp.alt_response(410, description="The code has expired (code_expired)")
def confirm_phone(body, confirmation_id):
    """The code from the SMS; the phone can then be subscribed. Five tries."""
    return subscriptions.confirm(deps(), caller_id(), confirmation_id, body["code"])
