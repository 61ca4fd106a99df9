"""The events sms-notify consumes, as this service reads them (its side of the contracts).

Schemas are written here, not imported from the publisher: services are deployed apart and
each keeps its own copy of a contract. They are tolerant readers: fields a publisher adds
within a version are ignored, so adding one never parks our messages.
"""

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from edu_common.envelope import INTERNAL, EventType

CODE_PURPOSES = ("email_confirmation", "login", "password_reset", "initial_password")
CHANNELS = ("email", "sms")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class CodeRequested(Schema):
    class Meta:
        unknown = EXCLUDE

    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    purpose = fields.String(required=True, validate=validate.OneOf(CODE_PURPOSES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = fields.String(required=True, validate=validate.Length(min=3, max=320))
    code = fields.String(required=True, validate=validate.Length(min=4, max=128))
    # Any two-letter tag: a language without texts here falls back to English, never fails.
    language = fields.String(required=True, validate=validate.Regexp(r"^[a-z]{2}$"))
    expires_at = fields.AwareDateTime(required=True)
    account_id = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def _recipient_fits_channel(self, data, **_kwargs):
        # Messages name the rule, never the value: the address is personal data.
        if data["channel"] == "sms" and not E164.match(data["to"]):
            raise ValidationError("Not an E.164 phone number.", "to")
        if data["channel"] == "email":
            try:
                validate.Email()(data["to"])
            except ValidationError:
                raise ValidationError("Not an e-mail address.", "to") from None


# identity publishes it on identity.internal, the exchange other agencies can never bind to.
CODE_REQUESTED = EventType(
    "identity",
    "code.requested",
    1,
    CodeRequested,
    "A one-time code or one-time password must reach a person by e-mail or SMS.",
    audience=INTERNAL,
)

CONSUMED = [CODE_REQUESTED]
PUBLISHED: list[EventType] = []  # none yet: delivery statuses come with the later work
EXCHANGES = sorted({e.exchange for e in PUBLISHED})
