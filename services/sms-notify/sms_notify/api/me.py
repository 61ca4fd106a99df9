"""The signed-in person's own: preferences and the messages sent to them."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from edu_common.web import auth
from sms_notify import schemas as s
from sms_notify.api.common import caller_id, deps
from sms_notify.usecases import messages, preferences

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in person's own.")


@blp.route("/preferences")
class Preferences(MethodView):
    @auth.require()
    @blp.response(200, s.PreferencesView)
    def get(self):
        """Language, channels, kinds wanted and quiet hours (defaults until changed)."""
        return preferences.view(deps(), caller_id())

    @auth.require()
    @blp.arguments(s.PreferencesSchema)
    @blp.response(200, s.PreferencesView)
    def put(self, body):
        """Change any of them; fields left out stay. ``quiet_hours: null`` turns them off."""
        return preferences.change(deps(), caller_id(), body)


@blp.route("/messages")
class MyMessages(MethodView):
    @auth.require()
    @blp.arguments(s.HistoryPageArgs, location="query")
    @blp.response(200, s.NotificationPage)
    def get(self, args):
        """What was sent to my account (never matched by phone or e-mail), newest first, with
        status; codes masked."""
        return messages.mine(deps(), caller_id(), limit=args["limit"], cursor=args["cursor"])
