"""What the schemas of every subject share: ids, languages, paging."""

from marshmallow import Schema, fields, validate

from kindergarten.domain.rules import CATEGORIES, LANGUAGES

LANGUAGE = validate.OneOf(list(LANGUAGES))
CATEGORY = validate.OneOf(list(CATEGORIES))
ID = fields.String(required=True, validate=validate.Length(min=1, max=64))
IIN = fields.String(
    required=True,
    validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."),
    metadata={"example": "880714327312"},
)


class Paging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    # A keyset cursor (the last item's time and id) is longer than an offset was.
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


class ChildrenPageArgs(Schema):
    """Paging of an enrolled child's lists (escorts, marks): smaller pages."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=500))


def page_of(item) -> type[Schema]:
    return type(
        f"{item.__name__}Page",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(allow_none=True),
        },
    )
