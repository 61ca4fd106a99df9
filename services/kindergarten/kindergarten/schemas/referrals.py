"""Referrals."""

from marshmallow import Schema, fields, validate

from kindergarten.domain.referral import Status, Via
from kindergarten.schemas.common import Paging, page_of


class ReferralQuery(Paging):
    kindergarten_id = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "Staff: their kindergarten's referrals"},
    )
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))


class ExtendInput(Schema):
    days = fields.Integer(required=True, validate=validate.Range(min=1, max=366))


class Referral(Schema):
    id = fields.String()
    application_id = fields.String()
    place_id = fields.String()
    kindergarten_id = fields.String()
    kindergarten_name = fields.String()
    group_id = fields.String()
    birth_year = fields.Integer(allow_none=True)
    child_first_name = fields.String(allow_none=True)
    status = fields.String()
    via = fields.String(allow_none=True, metadata={"enum": [v.value for v in Via]})
    offered_at = fields.AwareDateTime()
    confirm_by = fields.AwareDateTime(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    enrol_by = fields.AwareDateTime(allow_none=True)
    extended = fields.Boolean()
    closed_at = fields.AwareDateTime(allow_none=True)


ReferralPage = page_of(Referral)
