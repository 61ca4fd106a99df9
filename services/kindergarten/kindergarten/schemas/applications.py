"""The queue: applications and category decisions."""

from marshmallow import Schema, fields, validate

from kindergarten.domain.application import DECISIONS, CategoryStatus, Status
from kindergarten.domain.cycle import GENERAL
from kindergarten.schemas.common import CATEGORY, ID, LANGUAGE, Paging, page_of


class ApplicationQuery(Paging):
    district_id = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "District operators: their district's applications"},
    )
    category_status = fields.String(validate=validate.OneOf([s.value for s in CategoryStatus]))


class ApplicationInput(Schema):
    child_iin = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."),
        metadata={"example": "230517512034"},
    )
    district_id = ID
    kindergarten_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=10),
    )
    language = fields.String(required=True, validate=LANGUAGE)
    category = fields.String(load_default=GENERAL, validate=CATEGORY)
    category_reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class Application(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    queue_number = fields.Integer(
        allow_none=True,
        metadata={"description": "1 + active applications ahead in the child's own queue"},
    )
    child_iin_masked = fields.String()
    child_first_name = fields.String(allow_none=True)
    birth_year = fields.Integer()
    district_id = fields.String()
    kindergarten_ids = fields.List(fields.String())
    language = fields.String()
    category = fields.String()
    category_status = fields.String(allow_none=True)
    queue_category = fields.String()
    registered_at = fields.AwareDateTime()
    batch_id = fields.String(allow_none=True)
    stop_until = fields.AwareDateTime(allow_none=True)
    referral_id = fields.String(allow_none=True)
    closed_reason = fields.String(allow_none=True)


class CategoryDecisionInput(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([s.value for s in DECISIONS]))
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


ApplicationPage = page_of(Application)
