"""Request and response shapes of escorts, door codes and attendance. Unknown fields are refused."""

from marshmallow import Schema, fields, validate

IIN = fields.String(
    required=True,
    validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."),
    metadata={"example": "880714327312"},
)
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="A month is written YYYY-MM.")


class ChildrenPageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=500))


class EscortInput(Schema):
    iin = IIN
    phone = fields.String(
        validate=validate.Length(min=5, max=20),
        metadata={
            "description": "A phone the mobile-citizens database links to the IIN; may be "
            "left out when the person already escorts another of the parent's children"
        },
    )
    full_name = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Optional; when given, must match the population registry"},
    )


class Escort(Schema):
    iin = fields.String()
    full_name = fields.String(metadata={"description": "As the population registry has it"})
    phone = fields.String(metadata={"description": "E.164; SMS about the child go here"})
    is_applying_parent = fields.Boolean()
    added_at = fields.AwareDateTime()


class EscortPage(Schema):
    items = fields.List(fields.Nested(Escort))
    next_cursor = fields.String(allow_none=True)


class EscortedChild(Schema):
    child_iin = fields.String()
    child_first_name = fields.String(allow_none=True)
    kindergarten_id = fields.String()
    group_id = fields.String(allow_none=True)
    is_applying_parent = fields.Boolean()
    added_at = fields.AwareDateTime()


class EscortedChildPage(Schema):
    items = fields.List(fields.Nested(EscortedChild))
    next_cursor = fields.String(allow_none=True)


class EnrolledChild(Schema):
    child_iin = fields.String()
    child_first_name = fields.String(allow_none=True)
    kindergarten_id = fields.String()
    kindergarten_name = fields.String(allow_none=True)
    group_id = fields.String(allow_none=True)
    group_name = fields.String(allow_none=True)
    enrolled_at = fields.AwareDateTime(allow_none=True)
    relation = fields.String(metadata={"enum": ["parent", "escort", "teacher", "staff"]})


class DoorCode(Schema):
    kindergarten_id = fields.String()
    code = fields.String(metadata={"description": "8 digits; also accepted typed by hand"})
    payload = fields.String(
        metadata={
            "description": "The text the screen at the door shows as a QR code",
            "example": "edu-kg-door:v1:<kindergarten_id>:12345678",
        }
    )
    valid_from = fields.AwareDateTime()
    valid_until = fields.AwareDateTime(
        metadata={"description": "Shown until then; accepted one window longer"}
    )
    refresh_seconds = fields.Integer()


class MarkInput(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(["in", "out"]))
    door_code = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "The QR's payload or its 8 digits; required for escorts"},
    )
    at = fields.AwareDateTime(
        metadata={"description": "Teachers only: when it happened, if recorded late; not ahead"}
    )


class Mark(Schema):
    id = fields.String()
    direction = fields.String()
    at = fields.AwareDateTime()
    day = fields.String(metadata={"description": "YYYY-MM-DD in the kindergarten's time zone"})
    marked_by = fields.String(metadata={"enum": ["escort", "teacher"]})
    by_name = fields.String(allow_none=True)


class MonthArgs(Schema):
    month = fields.String(
        validate=MONTH, metadata={"description": "YYYY-MM; the current month if not given"}
    )


class SheetDay(Schema):
    day = fields.String()
    marks = fields.List(fields.Nested(Mark))
    still_inside = fields.Boolean()


class Sheet(Schema):
    month = fields.String()
    approved = fields.Boolean()
    approved_at = fields.AwareDateTime(allow_none=True)
    days_present = fields.Integer()
    days = fields.List(fields.Nested(SheetDay))


class DayArgs(ChildrenPageArgs):
    day = fields.Date(metadata={"description": "YYYY-MM-DD; today if not given"})


class KindergartenMark(Mark):
    child_iin = fields.String()
    child_first_name = fields.String(allow_none=True)


class KindergartenDay(Schema):
    day = fields.String()
    items = fields.List(fields.Nested(KindergartenMark))
    next_cursor = fields.String(allow_none=True)


class LeaveInput(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(["school", "moved", "parent_request", "other"]),
        metadata={"description": "Why the child left"},
    )
