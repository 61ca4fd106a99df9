"""Escorts: who may bring and collect a child."""

from marshmallow import Schema, fields, validate

from kindergarten.schemas.common import IIN


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
