"""Districts, kindergartens, groups and their staff."""

from marshmallow import Schema, fields, validate

from kindergarten.schemas.common import ID, LANGUAGE, Paging, page_of


class KindergartenQuery(Paging):
    district_id = fields.String(validate=validate.Length(max=64))
    language = fields.String(validate=LANGUAGE)


class DistrictInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))


class District(Schema):
    id = fields.String()
    name = fields.String()


class KindergartenInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    district_id = ID
    address = fields.String(required=True, validate=validate.Length(min=2, max=500))
    languages = fields.List(
        fields.String(validate=LANGUAGE), required=True, validate=validate.Length(min=1, max=2)
    )


class GroupInput(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    birth_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    language = fields.String(required=True, validate=LANGUAGE)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    teacher_ids = fields.List(fields.String(validate=validate.Length(max=64)), load_default=list)


class GroupPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    capacity = fields.Integer(validate=validate.Range(min=1, max=100))
    teacher_ids = fields.List(fields.String(validate=validate.Length(max=64)))


class Group(Schema):
    id = fields.String()
    kindergarten_id = fields.String()
    name = fields.String()
    birth_year = fields.Integer()
    language = fields.String()
    capacity = fields.Integer()
    teacher_ids = fields.List(fields.String())
    open_places = fields.Integer()


class Kindergarten(Schema):
    id = fields.String()
    name = fields.String()
    district_id = fields.String()
    address = fields.String(allow_none=True)
    languages = fields.List(fields.String())


class KindergartenDetail(Kindergarten):
    groups = fields.List(fields.Nested(Group))
    open_places = fields.Integer()


class StaffMember(Schema):
    account_id = fields.String()
    full_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())


DistrictPage = page_of(District)
KindergartenPage = page_of(Kindergarten)
