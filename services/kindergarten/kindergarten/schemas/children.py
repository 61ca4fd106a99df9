"""An enrolled child: its card, and its leaving."""

from marshmallow import Schema, fields, validate


class EnrolledChild(Schema):
    child_iin = fields.String()
    child_first_name = fields.String(allow_none=True)
    kindergarten_id = fields.String()
    kindergarten_name = fields.String(allow_none=True)
    group_id = fields.String(allow_none=True)
    group_name = fields.String(allow_none=True)
    enrolled_at = fields.AwareDateTime(allow_none=True)
    relation = fields.String(metadata={"enum": ["parent", "escort", "teacher", "staff"]})


class LeaveInput(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(["school", "moved", "parent_request", "other"]),
        metadata={"description": "Why the child left"},
    )
