"""Attendance: marks, a child's month sheet, a kindergarten's day."""

from marshmallow import Schema, fields, validate

from kindergarten.domain.attendance import (
    BY_ESCORT,
    BY_TEACHER,
    CORRECTION_PENDING,
    CORRECTION_STATUSES,
    DIRECTIONS,
)
from kindergarten.schemas.common import ChildrenPageArgs

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="A month is written YYYY-MM.")


class MarkInput(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(list(DIRECTIONS)))
    door_code = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "The QR's payload or its 8 digits; required for escorts"},
    )
    at = fields.AwareDateTime(
        metadata={
            "description": "Teachers only: when it happened, if recorded late; not ahead. Today "
            "or yesterday (KG_TEACHER_CORRECTION_DAYS) is written at once; an earlier day "
            "becomes a correction the district's operator approves (202)"
        }
    )
    reason = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why a mark for an earlier day comes late (corrections)"},
    )


class Mark(Schema):
    id = fields.String()
    direction = fields.String()
    at = fields.AwareDateTime()
    day = fields.String(metadata={"description": "YYYY-MM-DD in the kindergarten's time zone"})
    marked_by = fields.String(metadata={"enum": [BY_ESCORT, BY_TEACHER]})
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


class Correction(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": list(CORRECTION_STATUSES)})
    child_iin_masked = fields.String()
    child_first_name = fields.String(allow_none=True)
    kindergarten_id = fields.String()
    group_id = fields.String(allow_none=True)
    direction = fields.String(metadata={"enum": list(DIRECTIONS)})
    at = fields.AwareDateTime()
    day = fields.String()
    reason = fields.String(allow_none=True)
    requested_by = fields.String()
    requested_by_name = fields.String(allow_none=True)
    requested_at = fields.AwareDateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    mark_id = fields.String(allow_none=True, metadata={"description": "The mark, once approved"})


class CorrectionPage(Schema):
    items = fields.List(fields.Nested(Correction))
    next_cursor = fields.String(allow_none=True)


class CorrectionArgs(ChildrenPageArgs):
    kindergarten_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "One kindergarten (its staff; its district's operators)"},
    )
    status = fields.String(
        validate=validate.OneOf(list(CORRECTION_STATUSES)), load_default=CORRECTION_PENDING
    )


class Decision(Schema):
    reason = fields.String(
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Why (required to reject)"},
    )
