"""Request and response schemas of subscriptions, the SMS balance and conversations."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates

from edu_common.kz.iin import IINError, parse_iin
from sms_notify.events import E164
from sms_notify.usecases.conversations import SUBJECT_MAX, TEXT_MAX
from sms_notify.usecases.subscriptions import KINDS

_phone = validate.Regexp(E164.pattern, error="Not an E.164 phone number (+77011234567).")


class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=100))


def page_of(item_schema):
    class Page(Schema):
        items = fields.List(fields.Nested(item_schema))
        next_cursor = fields.String(
            allow_none=True, metadata={"description": "Pass as ?cursor= for the next page"}
        )

    Page.__name__ = f"{item_schema.__name__}Page"
    return Page


# --- subscriptions -------------------------------------------------------------------------
class SubscriptionInput(Schema):
    student_iin = fields.String(required=True)
    phone = fields.String(required=True, validate=_phone)
    kinds = fields.List(
        fields.String(validate=validate.OneOf(KINDS)),
        required=True,
        validate=validate.Length(min=1, max=len(KINDS)),
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
    status = fields.String(metadata={"example": "approved"})
    created_at = fields.DateTime()
    balance = fields.Integer(metadata={"description": "The balance now"})


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
    subject = fields.String(load_default=None, validate=validate.Length(max=SUBJECT_MAX))
    text = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_MAX))


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
