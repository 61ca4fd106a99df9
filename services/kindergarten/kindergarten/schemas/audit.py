"""The audit log: security and correction events."""

from marshmallow import Schema, fields


class AuditEntry(Schema):
    id = fields.String()
    at = fields.AwareDateTime()
    type = fields.String(
        metadata={
            "enum": [
                "door_code.rejected",
                "door_code.locked",
                "attendance.correction_requested",
                "attendance.correction_approved",
                "attendance.correction_rejected",
            ]
        }
    )
    account_id = fields.String(allow_none=True)
    kindergarten_id = fields.String(allow_none=True)
    child_iin_masked = fields.String(allow_none=True)
    client = fields.String(allow_none=True, metadata={"description": "The client's address"})
    details = fields.Dict()


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditEntry))
    next_cursor = fields.String(allow_none=True)
