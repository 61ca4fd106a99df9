"""Request and response schemas of sms-notify's HTTP API, by subject (the edge: api/ uses them
to read requests and shape answers)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from edu_common.kz.iin import IINError, parse_iin
from edu_common.web.problems import Problem
from sms_notify import store
from sms_notify.domain.balance import TOP_UP_STATUSES
from sms_notify.domain.conversations import SUBJECT_MAX, TEXT_MAX
from sms_notify.domain.kinds import KINDS, SUBSCRIPTION_KINDS, URGENT
from sms_notify.events import E164

LANGUAGES = ("kk", "ru", "en")
_phone = validate.Regexp(E164.pattern, error="Not an E.164 phone number (+77011234567).")


# --- pages -------------------------------------------------------------------------------------
class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=100))


class HistoryPageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)


def page_of(item_schema):
    class Page(Schema):
        items = fields.List(fields.Nested(item_schema))
        next_cursor = fields.String(
            allow_none=True, metadata={"description": "Pass as ?cursor= for the next page"}
        )

    Page.__name__ = f"{item_schema.__name__}Page"
    return Page


# --- preferences -------------------------------------------------------------------------------
class QuietHoursSchema(Schema):
    start = fields.String(required=True, metadata={"example": "22:00"})
    end = fields.String(required=True, metadata={"example": "08:00"})
    time_zone = fields.String(
        metadata={"description": "An IANA zone; left out: the service's (TIMEZONE)"}
    )

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
            if kind not in KINDS:
                raise ValidationError(f"Unknown kind; one of {', '.join(KINDS)}.", "kinds")
            if kind in URGENT and wanted is False:
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


# --- messages and dead letters -----------------------------------------------------------------
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


# --- delivery reports --------------------------------------------------------------------------
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


# --- subscriptions -------------------------------------------------------------------------
class SubscriptionInput(Schema):
    student_iin = fields.String(required=True)
    phone = fields.String(required=True, validate=_phone)
    kinds = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIPTION_KINDS)),
        required=True,
        validate=validate.Length(min=1, max=len(SUBSCRIPTION_KINDS)),
        metadata={"example": ["grades_weekly", "homework"]},
    )

    @validates("student_iin")
    def _iin(self, value, **_kw):
        try:
            parse_iin(value)
        except IINError as exc:
            raise ValidationError(str(exc)) from None


class SubscriptionView(Schema):
    id = fields.String(attribute="_id")
    student_iin = fields.String()
    student_name = fields.String(allow_none=True)
    phone = fields.String()
    kinds = fields.List(fields.String())
    created_at = fields.DateTime()


SubscriptionPage = page_of(SubscriptionView)


class PhoneInput(Schema):
    phone = fields.String(required=True, validate=_phone)


class CodeInput(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="Six digits."))


class PhoneConfirmationView(Schema):
    id = fields.String()
    phone = fields.String()
    expires_at = fields.DateTime()
    confirmed = fields.Boolean()
    attempts_left = fields.Integer()


# --- balance -------------------------------------------------------------------------------
class BalanceView(Schema):
    balance = fields.Integer(metadata={"description": "Whole tenge"})
    currency = fields.String(metadata={"example": "KZT"})
    price_per_segment = fields.Integer(
        metadata={"description": "What one SMS part of a subscription costs, in tenge"}
    )


class TopUpInput(Schema):
    amount = fields.Integer(required=True, strict=True, metadata={"example": 1000})


class TopUpView(Schema):
    id = fields.String()
    amount = fields.Integer()
    currency = fields.String()
    status = fields.String(
        metadata={
            "enum": list(TOP_UP_STATUSES),
            "description": "pending until the payment provider's signed callback says paid",
        }
    )
    redirect_url = fields.String(
        allow_none=True,
        metadata={"description": "While pending: the payment provider's page to pay on"},
    )
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    balance = fields.Integer(metadata={"description": "The balance now"})


class PaymentCallbackBody(Schema):
    """What the payment provider POSTs (PAYMENTS.md), signed over the raw body."""

    class Meta:
        unknown = EXCLUDE  # the provider's other fields

    payment_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Our top-up id, given when the payment was created"},
    )
    status = fields.String(
        required=True,
        validate=validate.Length(min=1, max=30),
        metadata={"description": "paid | declined | pending (other words change nothing)"},
    )
    amount = fields.Integer(required=True, strict=True)
    currency = fields.String(required=True, validate=validate.Length(min=3, max=3))


class PaymentCallbackResult(Schema):
    id = fields.String(metadata={"description": "The top-up"})
    status = fields.String(metadata={"enum": list(TOP_UP_STATUSES)})
    credited = fields.Boolean(metadata={"description": "Whether this callback credited it"})


class LedgerEntryView(Schema):
    id = fields.String(attribute="_id")
    kind = fields.String(metadata={"description": "top_up or charge"})
    amount = fields.Integer(metadata={"description": "+ paid in, - drawn by a message"})
    balance_after = fields.Integer()
    at = fields.DateTime()
    ref = fields.String(metadata={"description": "The top-up's or the message's id"})
    segments = fields.Integer(allow_none=True)


LedgerPage = page_of(LedgerEntryView)


# --- conversations -------------------------------------------------------------------------
class ConversationInput(Schema):
    """JSON, or multipart/form-data with the same fields and an optional ``attachment`` file."""

    class Meta:
        unknown = EXCLUDE

    teacher_account_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    student_iin = fields.String(
        load_default=None,
        metadata={
            "description": "Which of my children it is about; else the first the teacher teaches"
        },
    )
    subject = fields.String(load_default=None, validate=validate.Length(max=SUBJECT_MAX))
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))

    @validates("student_iin")
    def _iin(self, value, **_kw):
        if value is None:
            return
        try:
            parse_iin(value)
        except IINError as exc:
            raise ValidationError(str(exc)) from None


class MessageInput(Schema):
    """JSON, or multipart/form-data with ``text`` and an optional ``attachment`` file."""

    class Meta:
        unknown = EXCLUDE

    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


class Party(Schema):
    account_id = fields.String()
    name = fields.String(allow_none=True)


class ConversationView(Schema):
    id = fields.String()
    subject = fields.String(allow_none=True)
    parent = fields.Nested(Party)
    teacher = fields.Nested(Party)
    child_name = fields.String(allow_none=True, metadata={"description": "Whose child it is about"})
    created_at = fields.DateTime()
    last_message_at = fields.DateTime()
    unread = fields.Integer(metadata={"description": "Messages from the other side not read"})
    my_role = fields.String(metadata={"description": "parent or teacher"})


ConversationPage = page_of(ConversationView)


class AttachmentView(Schema):
    file_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class MessageView(Schema):
    id = fields.String()
    author_account_id = fields.String()
    author_role = fields.String()
    text = fields.String()
    attachment = fields.Nested(AttachmentView, allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


MessagePage = page_of(MessageView)


class ConversationCreated(Schema):
    conversation = fields.Nested(ConversationView)
    message = fields.Nested(MessageView)
