"""The events sms-notify consumes, as this service reads them (its side of the contracts).

Schemas are written here, not imported from the publisher: services are deployed apart and
each keeps its own copy of a contract. They are tolerant readers: fields a publisher adds
within a version are ignored, so adding one never parks our messages.
"""

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from edu_common.envelope import INTERNAL, EventType

CODE_PURPOSES = ("email_confirmation", "login", "password_reset", "initial_password")
CHANNELS = ("email", "sms")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class CodeRequested(Schema):
    class Meta:
        unknown = EXCLUDE

    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    purpose = fields.String(required=True, validate=validate.OneOf(CODE_PURPOSES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = fields.String(required=True, validate=validate.Length(min=3, max=320))
    code = fields.String(required=True, validate=validate.Length(min=4, max=128))
    # Any two-letter tag: a language without texts here falls back to English, never fails.
    language = fields.String(required=True, validate=validate.Regexp(r"^[a-z]{2}$"))
    expires_at = fields.AwareDateTime(required=True)
    account_id = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def _recipient_fits_channel(self, data, **_kwargs):
        # Messages name the rule, never the value: the address is personal data.
        if data["channel"] == "sms" and not E164.match(data["to"]):
            raise ValidationError("Not an E.164 phone number.", "to")
        if data["channel"] == "email":
            try:
                validate.Email()(data["to"])
            except ValidationError:
                raise ValidationError("Not an e-mail address.", "to") from None


# identity publishes it on identity.internal, the exchange other agencies can never bind to.
CODE_REQUESTED = EventType(
    "identity",
    "code.requested",
    1,
    CodeRequested,
    "A one-time code or one-time password must reach a person by e-mail or SMS.",
    audience=INTERNAL,
)


class _Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


# --- identity: security and consent (public exchange identity.events) ---------------------


class PasswordChanged(_Tolerant):
    account_id = fields.String(required=True)
    reason = fields.String(required=True)
    sessions_ended = fields.Integer(load_default=0)


class AccountLocked(_Tolerant):
    account_id = fields.String(required=True)
    reason = fields.String(load_default="")
    locked_until = fields.AwareDateTime(required=True)


class ConsentChanged(_Tolerant):
    account_id = fields.String(required=True)
    consent = fields.String(required=True)
    given = fields.Boolean(required=True)


def _identity(name: str, schema, description: str) -> EventType:
    return EventType("identity", name, 1, schema, description)


PASSWORD_CHANGED = _identity("password.changed", PasswordChanged, "Password changed or reset.")
ACCOUNT_LOCKED = _identity("account.locked", AccountLocked, "Too many failed sign-ins.")
CONSENT_CHANGED = _identity("consent.changed", ConsentChanged, "Notifications consent changed.")


# --- kindergarten (kindergarten.events; escort.added on kindergarten.internal) -------------


class _About(_Tolerant):
    application_id = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    child_iin_masked = fields.String(required=True)
    child_first_name = fields.String(allow_none=True, load_default=None)
    district_id = fields.String(load_default=None, allow_none=True)


class ApplicationRegistered(_About):
    category = fields.String(load_default="general")
    queue_number = fields.Integer(required=True)


class QueueNumberChanged(_About):
    queue_number = fields.Integer(required=True)
    previous_queue_number = fields.Integer(load_default=None, allow_none=True)


class CategoryDecided(_About):
    decision = fields.String(required=True)
    category = fields.String(required=True)
    queue_number = fields.Integer(required=True)


class ApplicationClosed(_About):
    reason = fields.String(required=True)


class _Referral(_About):
    referral_id = fields.String(required=True)
    kindergarten_name = fields.String(required=True)


class ReferralOffered(_Referral):
    confirm_by = fields.AwareDateTime(required=True)


class ReferralReminder(_Referral):
    stage = fields.String(required=True)
    deadline = fields.AwareDateTime(required=True)


class ReferralEnrolBy(_Referral):
    enrol_by = fields.AwareDateTime(required=True)


class ReferralExpired(_Referral):
    stop_list_until = fields.AwareDateTime(required=True)


class ChildLeft(_About):
    kindergarten_name = fields.String(required=True)
    reason = fields.String(required=True)


class EscortAdded(_Tolerant):
    child_iin_masked = fields.String(required=True)
    child_first_name = fields.String(allow_none=True, load_default=None)
    kindergarten_name = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    escort_full_name = fields.String(required=True)
    escort_phone = fields.String(required=True)


class EscortRemoved(_Tolerant):
    child_iin_masked = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    escort_iin_masked = fields.String(required=True)


class AttendanceMarked(_Tolerant):
    child_iin_masked = fields.String(required=True)
    child_first_name = fields.String(allow_none=True, load_default=None)
    kindergarten_name = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    at = fields.AwareDateTime(required=True)


def _kg(name: str, schema, description: str, **kw) -> EventType:
    return EventType("kindergarten", name, 1, schema, description, **kw)


KG_REGISTERED = _kg("application.registered", ApplicationRegistered, "Put in the queue.")
KG_QUEUE_CHANGED = _kg("application.queue_number_changed", QueueNumberChanged, "Queue moved.")
KG_CATEGORY = _kg("application.category_decided", CategoryDecided, "Category decided.")
KG_CLOSED = _kg("application.closed", ApplicationClosed, "Left the queue.")
KG_OFFERED = _kg("referral.offered", ReferralOffered, "A place is offered.")
KG_REMINDER = _kg("referral.reminder", ReferralReminder, "A referral deadline is near.")
KG_CONFIRMED = _kg("referral.confirmed", ReferralEnrolBy, "Referral confirmed.")
KG_EXTENDED = _kg("referral.extended", ReferralEnrolBy, "Referral extended.")
KG_EXPIRED = _kg("referral.expired", ReferralExpired, "Referral lapsed.")
KG_DECLINED = _kg("referral.declined", _Referral, "Referral declined.")
KG_ENROLLED = _kg("child.enrolled", _Referral, "Child enrolled.")
KG_LEFT = _kg("child.left", ChildLeft, "Child left the kindergarten.")
KG_ESCORT_ADDED = _kg("escort.added", EscortAdded, "An escort was added.", audience=INTERNAL)
KG_ESCORT_REMOVED = _kg("escort.removed", EscortRemoved, "An escort was removed.")
KG_ATTENDANCE = _kg("attendance.marked", AttendanceMarked, "Marked in or out.")

# applicant publishes no events yet: its status changes become one entry in handlers.ROUTES.

CONSUMED = [
    CODE_REQUESTED,
    PASSWORD_CHANGED,
    ACCOUNT_LOCKED,
    CONSENT_CHANGED,
    KG_REGISTERED,
    KG_QUEUE_CHANGED,
    KG_CATEGORY,
    KG_CLOSED,
    KG_OFFERED,
    KG_REMINDER,
    KG_CONFIRMED,
    KG_EXTENDED,
    KG_EXPIRED,
    KG_DECLINED,
    KG_ENROLLED,
    KG_LEFT,
    KG_ESCORT_ADDED,
    KG_ESCORT_REMOVED,
    KG_ATTENDANCE,
]
PUBLISHED: list[EventType] = []  # none yet: delivery statuses come with the later work
EXCHANGES = sorted({e.exchange for e in PUBLISHED})
