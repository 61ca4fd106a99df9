"""The door code."""

from marshmallow import Schema, fields


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
