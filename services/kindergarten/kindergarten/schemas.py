"""Request and response shapes at kindergarten's HTTP edge. Unknown fields are refused."""

from marshmallow import Schema, fields, validate

LANGUAGE = validate.OneOf(["kk", "ru"])
CATEGORY = validate.OneOf(["general", "priority", "extraordinary"])
ID = fields.String(required=True, validate=validate.Length(min=1, max=64))


class Paging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=64))


class KindergartenQuery(Paging):
    district_id = fields.String(validate=validate.Length(max=64))
    language = fields.String(validate=LANGUAGE)


class ApplicationQuery(Paging):
    district_id = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "District operators: their district's applications"},
    )
    category_status = fields.String(validate=validate.OneOf(["pending", "confirmed", "rejected"]))


class ReferralQuery(Paging):
    kindergarten_id = fields.String(
        validate=validate.Length(max=64),
        metadata={"description": "Staff: their kindergarten's referrals"},
    )
    status = fields.String(
        validate=validate.OneOf(["offered", "confirmed", "enrolled", "declined", "expired"])
    )


class PlaceQuery(Paging):
    district_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    birth_year = fields.Integer(validate=validate.Range(min=2000, max=2100))


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
    category = fields.String(load_default="general", validate=CATEGORY)
    category_reason = fields.String(load_default=None, validate=validate.Length(max=1000))


class Application(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": ["queued", "offered", "closed"]})
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
    decision = fields.String(required=True, validate=validate.OneOf(["confirmed", "rejected"]))
    reason = fields.String(load_default=None, validate=validate.Length(max=1000))


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
    status = fields.String(metadata={"enum": ["vacant", "offered", "taken"]})
    published_at = fields.AwareDateTime()
    open_at = fields.AwareDateTime()


class Published(Schema):
    places = fields.List(fields.Nested(Place))
    offered = fields.Integer(metadata={"description": "Referrals offered at once"})


class ClaimInput(Schema):
    application_id = ID


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
    via = fields.String(allow_none=True, metadata={"enum": ["queue", "claim"]})
    offered_at = fields.AwareDateTime()
    confirm_by = fields.AwareDateTime(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    enrol_by = fields.AwareDateTime(allow_none=True)
    extended = fields.Boolean()
    closed_at = fields.AwareDateTime(allow_none=True)


def page_of(item) -> type[Schema]:
    return type(
        f"{item.__name__}Page",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(allow_none=True),
        },
    )


DistrictPage = page_of(District)
KindergartenPage = page_of(Kindergarten)
ApplicationPage = page_of(Application)
PlacePage = page_of(Place)
ReferralPage = page_of(Referral)
