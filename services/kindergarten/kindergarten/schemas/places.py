"""Places: publishing them, open places and claims."""

from marshmallow import Schema, fields, validate

from kindergarten.domain.place import Status
from kindergarten.schemas.common import ID, Paging, page_of


class PlaceQuery(Paging):
    district_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    birth_year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class PlacesInput(Schema):
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=100))


class Place(Schema):
    id = fields.String()
    kindergarten_id = fields.String()
    kindergarten_name = fields.String(allow_none=True)
    group_id = fields.String()
    district_id = fields.String()
    birth_year = fields.Integer()
    language = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    published_at = fields.AwareDateTime()
    open_at = fields.AwareDateTime()


class Published(Schema):
    places = fields.List(fields.Nested(Place))
    offered = fields.Integer(metadata={"description": "Referrals offered at once"})


class ClaimInput(Schema):
    application_id = ID


PlacePage = page_of(Place)
