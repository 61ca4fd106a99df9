"""sms-notify's HTTP API: preferences, message history, dead letters, delivery reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import zoneinfo

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from edu_common import accounts, paging
from edu_common.web import auth, problems
from edu_common.web.idempotency import idempotent
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.deps import Deps
from sms_notify.domain import kinds, quiet
from sms_notify.usecases import delivery

ADMIN = "admin"
LANGUAGES = ("kk", "ru", "en")
SIGNATURE_HEADER = "X-Signature"


def deps() -> Deps:
    return current_app.extensions["sms-notify"]


once = idempotent(lambda: deps().db)


def my_account() -> dict:
    principal = auth.current_principal()
    account = accounts.get(deps().db, principal.account_id)
    if account is None:
        # The copy arrives from identity within seconds of registration.
        raise Problem(
            409,
            "account_not_synced",
            "Your account is not known here yet; try again in a moment.",
            headers={"Retry-After": "2"},
        )
    return account


# --- pagination -------------------------------------------------------------------------------


class HistoryPageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)


def page(collection, query: dict, args: dict, shape) -> dict:
    """Newest first, by the time a message was made."""
    try:
        return paging.keyset_page(
            collection,
            query,
            field="created_at",
            limit=args["limit"],
            cursor=args.get("cursor"),
            newest_first=True,
            shape=shape,
        )
    except paging.BadCursor:
        raise Problem(
            400, "invalid_cursor", "The cursor is not one we gave.", field="cursor"
        ) from None


# --- preferences ------------------------------------------------------------------------------


class QuietHoursSchema(Schema):
    start = fields.String(required=True, metadata={"example": "22:00"})
    end = fields.String(required=True, metadata={"example": "08:00"})
    time_zone = fields.String(load_default=quiet.DEFAULT_TIME_ZONE)

    @validates("start")
    def _start(self, value, **_kw):
        _hhmm(value)

    @validates("end")
    def _end(self, value, **_kw):
        _hhmm(value)

    @validates("time_zone")
    def _tz(self, value, **_kw):
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError("Not a known IANA time zone.") from None


def _hhmm(value: str) -> None:
    try:
        if len(value) != 5:
            raise ValueError
        dt.time.fromisoformat(value)
    except ValueError:
        raise ValidationError("Expected HH:MM.") from None


class PreferencesSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the API's other fields are ours to add

    language = fields.String(validate=validate.OneOf(LANGUAGES))
    channels = fields.List(
        fields.String(validate=validate.OneOf(("sms", "email"))),
        validate=validate.Length(min=1, max=2),
        metadata={"description": "Where ordinary messages go; codes and security use every one"},
    )
    kinds = fields.Dict(
        keys=fields.String(),
        values=fields.Boolean(),
        metadata={"description": "kind -> wanted; code and security cannot be muted"},
    )
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)

    @validates("channels")
    def _channels(self, value, **_kw):
        if len(set(value)) != len(value):
            raise ValidationError("Each channel once.")

    @validates_schema
    def _kinds(self, data, **_kw):
        for kind, wanted in (data.get("kinds") or {}).items():
            if kind not in kinds.KINDS:
                raise ValidationError(f"Unknown kind; one of {', '.join(kinds.KINDS)}.", "kinds")
            if kind in kinds.URGENT and wanted is False:
                # A muted code would lock the person out; a muted warning would hide a break-in.
                raise Problem(
                    422,
                    "kind_not_mutable",
                    f"Messages of kind {kind} cannot be turned off.",
                    field=f"kinds.{kind}",
                )


class PreferencesView(Schema):
    language = fields.String()
    channels = fields.List(fields.String())
    kinds = fields.Dict(keys=fields.String(), values=fields.Boolean())
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    notifications_consent = fields.Boolean(dump_only=True)


def preferences_view(account: dict, prefs: dict) -> dict:
    stored_quiet = prefs.get("quiet_hours")
    if stored_quiet is not None and stored_quiet.get("enabled") is False:
        quiet_hours = None
    else:
        q = quiet.QuietHours.from_doc(stored_quiet)
        quiet_hours = {
            "start": q.start.strftime("%H:%M"),
            "end": q.end.strftime("%H:%M"),
            "time_zone": q.time_zone,
        }
    default_channels = ["sms"] if account.get("phone") else ["email"]
    consent = prefs.get("consent", account.get("notifications_consent", True))
    return {
        "language": prefs.get("language") or account.get("language") or "ru",
        "channels": prefs.get("channels") or default_channels,
        "kinds": {k: (prefs.get("kinds") or {}).get(k, True) for k in kinds.KINDS},
        "quiet_hours": quiet_hours,
        "notifications_consent": consent is not False,
    }


me = Blueprint("me", __name__, url_prefix="/me", description="The signed-in person's own.")


@me.route("/preferences")
class Preferences(MethodView):
    @auth.require()
    @me.response(200, PreferencesView)
    def get(self):
        """Language, channels, kinds wanted and quiet hours (defaults until changed)."""
        account = my_account()
        prefs = deps().db[store.PREFERENCES].find_one({"_id": account["_id"]}) or {}
        return preferences_view(account, prefs)

    @auth.require()
    @me.arguments(PreferencesSchema)
    @me.response(200, PreferencesView)
    def put(self, body):
        """Change any of them; fields left out stay. ``quiet_hours: null`` turns them off."""
        account = my_account()
        changes = {}
        for key in ("language", "channels"):
            if key in body:
                changes[key] = body[key]
        for kind, wanted in (body.get("kinds") or {}).items():
            changes[f"kinds.{kind}"] = wanted
        if "quiet_hours" in body:
            changes["quiet_hours"] = (
                {"enabled": False} if body["quiet_hours"] is None else body["quiet_hours"]
            )
        col = deps().db[store.PREFERENCES]
        if changes:
            changes["updated_at"] = deps().now()
            col.update_one({"_id": account["_id"]}, {"$set": changes}, upsert=True)
        return preferences_view(account, col.find_one({"_id": account["_id"]}) or {})


# --- history ----------------------------------------------------------------------------------


class NotificationView(Schema):
    id = fields.String(attribute="_id")
    kind = fields.String()
    channel = fields.String()
    to = fields.String()
    language = fields.String()
    subject = fields.String(allow_none=True)
    body = fields.String(metadata={"description": "Codes are shown masked"})
    status = fields.String(metadata={"enum": list(store.STATUSES)})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was not sent"})
    segments = fields.Integer()
    provider = fields.String(allow_none=True)
    attempts = fields.Integer()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    release_at = fields.DateTime(allow_none=True, metadata={"description": "Held until"})


class NotificationPage(Schema):
    items = fields.List(fields.Nested(NotificationView))
    next_cursor = fields.String(allow_none=True)


class AdminMessageArgs(HistoryPageArgs):
    to = fields.String(required=True, validate=validate.Length(min=3, max=320))


def shown(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("secret", None)  # never stored past sending; never shown either
    if doc.get("status") == store.SENDING:
        doc["status"] = store.QUEUED  # an attempt in flight is still queued to a person
    return doc


@me.route("/messages")
class MyMessages(MethodView):
    @auth.require()
    @me.arguments(HistoryPageArgs, location="query")
    @me.response(200, NotificationPage)
    def get(self, args):
        """What was sent to me (by account, phone or e-mail), newest first, with status."""
        account = my_account()
        mine = [{"account_id": account["_id"]}]
        mine += [{"to": c} for c in (account.get("phone"), account.get("email")) if c]
        return page(deps().db[store.MESSAGES], {"$or": mine}, args, shown)


admin = Blueprint("admin", __name__, description="Operators: messages and dead letters.")


@admin.route("/messages")
@auth.require(ADMIN)
@admin.arguments(AdminMessageArgs, location="query")
@admin.response(200, NotificationPage)
def messages_to(args):
    """Every message to one phone or e-mail, newest first (admins)."""
    return page(deps().db[store.MESSAGES], {"to": args["to"]}, args, shown)


class DeadLetterView(Schema):
    id = fields.String(attribute="_id")
    message_id = fields.String()
    event_id = fields.String()
    kind = fields.String(allow_none=True)
    channel = fields.String()
    to = fields.String()
    error = fields.String()
    attempts = fields.Integer()
    status = fields.String(metadata={"enum": ["open", "resent"]})
    resent_message_id = fields.String(allow_none=True)
    created_at = fields.DateTime()


class DeadLetterPage(Schema):
    items = fields.List(fields.Nested(DeadLetterView))
    next_cursor = fields.String(allow_none=True)


class DeadLetterArgs(HistoryPageArgs):
    status = fields.String(validate=validate.OneOf(["open", "resent"]))


class Resent(Schema):
    message_id = fields.String()


@admin.route("/dead-letters")
@auth.require(ADMIN)
@admin.arguments(DeadLetterArgs, location="query")
@admin.response(200, DeadLetterPage)
def dead_letters(args):
    """Messages that failed for good (codes excepted: people ask for a new one)."""
    query = {"status": args["status"]} if args.get("status") else {}
    return page(deps().db[store.DEAD_LETTERS], query, args, dict)


@admin.route("/dead-letters/<letter_id>/resend", methods=["POST"])
@auth.require(ADMIN)
@once
@admin.response(202, Resent)
@admin.alt_response(409, description="Re-sent before (already_resent, with its message_id)")
def resend(letter_id):
    """Queue the message again, once: a second call answers 409 with the first copy's id."""
    try:
        message_id = delivery.resend(deps().db, letter_id, deps().now())
    except delivery.AlreadyResent as exc:
        raise Problem(
            409, "already_resent", "This dead letter was re-sent.", message_id=exc.message_id
        ) from None
    if message_id is None:
        raise Problem(404, "not_found", "No such dead letter.")
    return {"message_id": message_id}


# --- delivery reports -------------------------------------------------------------------------

PROVIDERS = ("smsc", "mobizon")
# Provider words and codes -> ours. SMSC: 1 delivered, 2 read; 3, 20, 22-25 failed.
REPORT_STATUSES = {
    "delivered": "delivered",
    "undelivered": "undelivered",
    "DELIVRD": "delivered",
    "UNDELIV": "undelivered",
    "REJECTD": "undelivered",
    "EXPIRED": "undelivered",
    "1": "delivered",
    "2": "delivered",
    **{str(c): "undelivered" for c in (3, 20, 22, 23, 24, 25)},
}


class ReportItem(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    status = fields.String(required=True, validate=validate.Length(min=1, max=30))


class ReportBody(Schema):
    reports = fields.List(
        fields.Nested(ReportItem), required=True, validate=validate.Length(max=1000)
    )


class ReportResult(Schema):
    applied = fields.Integer()
    unknown = fields.Integer(metadata={"description": "Ids we never sent through this provider"})
    pending = fields.Integer()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


providers = Blueprint("providers", __name__, description="Callbacks from SMS providers.")


@providers.route("/providers/<name>/delivery-reports", methods=["POST"])
@providers.response(200, ReportResult)
@providers.alt_response(401, description="Missing or wrong signature (invalid_signature)")
def delivery_reports(name):
    """Delivery reports, signed: header ``X-Signature: sha256=<hex HMAC-SHA256 of the body>``.

    Body ``{"reports": [{"id": provider message id, "status": "delivered" | "undelivered" |
    the provider's own word or code}]}``. Repeats change nothing.
    """
    if name not in PROVIDERS:
        raise Problem(404, "not_found", "No such provider.")
    raw = request.get_data(cache=True)
    given = request.headers.get(SIGNATURE_HEADER, "")
    expected = signature(deps().settings.report_secret, raw)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Problem(401, "invalid_signature", "The report's signature does not match.")
    try:
        body = ReportBody().load(json.loads(raw or b"null"))
    except (ValueError, TypeError):
        raise Problem(400, "malformed_json", "The body is not JSON.") from None
    except ValidationError as exc:
        raise Problem(
            422, "validation_failed", invalid_params=problems._invalid_params(exc.messages)
        ) from None
    applied = unknown = pending = 0
    now = deps().now()
    for item in body["reports"]:
        status = REPORT_STATUSES.get(item["status"].strip(), "pending")
        if status == "pending":
            pending += 1
            continue
        result = delivery.record_report(deps().db, name, item["id"], status, item["status"], now)
        if result is None:
            unknown += 1
        else:
            applied += 1
    return {"applied": applied, "unknown": unknown, "pending": pending}


BLUEPRINTS = [me, admin, providers]
