"""The events kindergarten publishes. Payloads are versioned; a breaking change is a new version.

Public events (exchange ``kindergarten.events``) are for sms-notify and other agencies: they
carry ids, the child's masked IIN and first name, never a full IIN or a phone. sms-notify finds
the parent's contacts and language from ``parent_account_id`` (its copy of identity's accounts).
The escort event carries the escort's phone, so it is internal (``kindergarten.internal``).
"""

from marshmallow import fields, validate

from edu_common.contracts import Contract
from edu_common.envelope import INTERNAL, EventType

SERVICE = "kindergarten"
CATEGORIES = ["general", "priority", "extraordinary"]


class _About(Contract):
    """What every parent-facing event says about whose child it is."""

    application_id = fields.String(required=True)
    parent_account_id = fields.String(
        required=True, metadata={"description": "identity's account id of the applying parent"}
    )
    child_iin_masked = fields.String(
        required=True, metadata={"description": "Last four digits only: ********2034"}
    )
    child_first_name = fields.String(allow_none=True, load_default=None)
    district_id = fields.String(required=True)


class ApplicationRegistered(_About):
    kindergarten_ids = fields.List(fields.String(), required=True)
    language = fields.String(required=True, validate=validate.OneOf(["kk", "ru"]))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    birth_year = fields.Integer(required=True)
    queue_number = fields.Integer(required=True)
    registered_at = fields.AwareDateTime(required=True)


class QueueNumberChanged(_About):
    queue_number = fields.Integer(required=True)
    previous_queue_number = fields.Integer(required=True)


class CategoryDecided(_About):
    decision = fields.String(required=True, validate=validate.OneOf(["confirmed", "rejected"]))
    category = fields.String(
        required=True,
        validate=validate.OneOf(CATEGORIES),
        metadata={"description": "The queue the application waits in from now on"},
    )
    queue_number = fields.Integer(required=True)


class ApplicationClosed(_About):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(["withdrawn", "declined", "enrolled", "aged_out"]),
    )


class _Referral(_About):
    referral_id = fields.String(required=True)
    kindergarten_id = fields.String(required=True)
    kindergarten_name = fields.String(required=True)
    group_id = fields.String(required=True)


class ReferralOffered(_Referral):
    confirm_by = fields.AwareDateTime(required=True)


class ReferralReminder(_Referral):
    stage = fields.String(required=True, validate=validate.OneOf(["confirm", "enrol"]))
    deadline = fields.AwareDateTime(required=True)


class ReferralConfirmed(_Referral):
    enrol_by = fields.AwareDateTime(required=True)


class ReferralExtended(_Referral):
    enrol_by = fields.AwareDateTime(required=True)


class ReferralExpired(_Referral):
    stop_list_until = fields.AwareDateTime(required=True)


class ReferralDeclined(_Referral):
    pass


class ChildEnrolled(_Referral):
    pass


class ChildLeft(_About):
    kindergarten_id = fields.String(required=True)
    kindergarten_name = fields.String(required=True)
    reason = fields.String(
        required=True, validate=validate.OneOf(["school", "moved", "parent_request", "other"])
    )


class EscortAdded(Contract):
    child_iin_masked = fields.String(required=True)
    child_first_name = fields.String(allow_none=True, load_default=None)
    kindergarten_id = fields.String(required=True)
    kindergarten_name = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    escort_iin_masked = fields.String(required=True)
    escort_full_name = fields.String(required=True)
    escort_phone = fields.String(required=True, metadata={"description": "E.164"})


class EscortRemoved(Contract):
    child_iin_masked = fields.String(required=True)
    kindergarten_id = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    escort_iin_masked = fields.String(required=True)


class AttendanceMarked(Contract):
    child_iin_masked = fields.String(required=True)
    child_first_name = fields.String(allow_none=True, load_default=None)
    kindergarten_id = fields.String(required=True)
    kindergarten_name = fields.String(required=True)
    parent_account_id = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    at = fields.AwareDateTime(required=True)
    marked_by = fields.String(required=True, validate=validate.OneOf(["escort", "teacher"]))


def _event(name, schema, description, **kw) -> EventType:
    return EventType(SERVICE, name, 1, schema, description, **kw)


APPLICATION_REGISTERED = _event(
    "application.registered",
    ApplicationRegistered,
    "A child was put in the queue; its first queue number.",
)
QUEUE_NUMBER_CHANGED = _event(
    "application.queue_number_changed",
    QueueNumberChanged,
    "The child's queue number moved by more than the configured step since the parent was "
    "last told.",
)
CATEGORY_DECIDED = _event(
    "application.category_decided",
    CategoryDecided,
    "A district operator confirmed or rejected the priority or extraordinary category.",
)
APPLICATION_CLOSED = _event(
    "application.closed",
    ApplicationClosed,
    "The child left the queue: withdrawn, referral declined, enrolled, or too old.",
)
REFERRAL_OFFERED = _event(
    "referral.offered",
    ReferralOffered,
    "A place was offered to the child; the parent must confirm before confirm_by.",
)
REFERRAL_REMINDER = _event(
    "referral.reminder",
    ReferralReminder,
    "A referral's deadline (confirmation or enrolment) is near.",
)
REFERRAL_CONFIRMED = _event(
    "referral.confirmed",
    ReferralConfirmed,
    "The parent confirmed the referral; the kindergarten must enrol before enrol_by.",
)
REFERRAL_EXTENDED = _event(
    "referral.extended", ReferralExtended, "The referral was extended once; the new enrol_by."
)
REFERRAL_EXPIRED = _event(
    "referral.expired",
    ReferralExpired,
    "The referral lapsed unconfirmed or unused; the place went to the next in line and the "
    "child gets no offers until stop_list_until.",
)
REFERRAL_DECLINED = _event(
    "referral.declined", ReferralDeclined, "The parent declined; the child left the queue."
)
CHILD_ENROLLED = _event(
    "child.enrolled",
    ChildEnrolled,
    "The kindergarten enrolled the child; it left the queue and the parent became its escort.",
)
CHILD_LEFT = _event(
    "child.left",
    ChildLeft,
    "The child left the kindergarten (its staff recorded it); its escorts are released.",
)
ESCORT_ADDED = _event(
    "escort.added",
    EscortAdded,
    "A person may now bring and collect the child, and gets an SMS. Internal: it carries the "
    "escort's name and phone.",
    audience=INTERNAL,
)
ESCORT_REMOVED = _event(
    "escort.removed", EscortRemoved, "A person may no longer bring and collect the child."
)
ATTENDANCE_MARKED = _event(
    "attendance.marked",
    AttendanceMarked,
    "The child was marked in or out at the kindergarten's door.",
)

ALL = [
    APPLICATION_REGISTERED,
    QUEUE_NUMBER_CHANGED,
    CATEGORY_DECIDED,
    APPLICATION_CLOSED,
    REFERRAL_OFFERED,
    REFERRAL_REMINDER,
    REFERRAL_CONFIRMED,
    REFERRAL_EXTENDED,
    REFERRAL_EXPIRED,
    REFERRAL_DECLINED,
    CHILD_ENROLLED,
    CHILD_LEFT,
    ESCORT_ADDED,
    ESCORT_REMOVED,
    ATTENDANCE_MARKED,
]
EXCHANGES = sorted({e.exchange for e in ALL})
