"""The events identity publishes. Payloads are versioned; a breaking change is a new version.

``account.changed`` carries an account's whole state so every service keeps its own copy
(edu_common.accounts); ``code.requested`` carries a secret. Both are internal: they travel on
``identity.internal``, which other agencies can never bind to.
"""

import re

from marshmallow import ValidationError, fields, validate, validates_schema

from edu_common.contracts import Contract
from edu_common.envelope import INTERNAL, EventType

SERVICE = "identity"


class AccountRegistered(Contract):
    account_id = fields.String(required=True)
    origin = fields.String(
        required=True,
        validate=validate.OneOf(["self", "staff", "bootstrap"]),
        metadata={"description": "self-registration, created by staff, or the bootstrap admin"},
    )
    roles = fields.List(fields.String(), required=True)
    organization_id = fields.String(allow_none=True, load_default=None)
    iin_masked = fields.String(
        allow_none=True, metadata={"description": "Last four digits only: ********1048"}
    )
    citizenship = fields.String(allow_none=True)
    birth_year = fields.Integer(allow_none=True)
    language = fields.String(validate=validate.OneOf(["kk", "ru", "en"]))


CODE_PURPOSES = (
    "email_confirmation",
    "login",
    "password_reset",
    "initial_password",
    # Registration: the SMS code proving an IIN is the registrant's (to the phone the
    # mobile-citizens database links to it), and the one confirming the cabinet's phone.
    "iin_confirmation",
    "phone_confirmation",
)
CHANNELS = ("email", "sms")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


class CodeRequested(Contract):
    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    purpose = fields.String(required=True, validate=validate.OneOf(CODE_PURPOSES))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    to = fields.String(
        required=True,
        validate=validate.Length(min=3, max=320),
        metadata={"description": "E-mail or E.164 phone"},
    )
    code = fields.String(
        required=True,
        validate=validate.Length(min=4, max=128),
        metadata={"description": "The secret to deliver"},
    )
    # Any two-letter tag: a language without texts falls back to English, never fails.
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


class PasswordChanged(Contract):
    account_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["change", "reset", "first"]))
    sessions_ended = fields.Integer(required=True)


class AccountLocked(Contract):
    account_id = fields.String(required=True)
    reason = fields.String(required=True)
    locked_until = fields.AwareDateTime(required=True)


ACCOUNT_REGISTERED = EventType(
    SERVICE,
    "account.registered",
    1,
    AccountRegistered,
    "A personal cabinet or a staff account was created. Carries no personal data beyond the "
    "masked IIN, citizenship and year of birth.",
)
CODE_REQUESTED = EventType(
    SERVICE,
    "code.requested",
    1,
    CodeRequested,
    "A one-time code or one-time password must reach a person. Internal: published on "
    "identity.internal, which other agencies can never bind to; consumed by sms-notify.",
    audience=INTERNAL,
)
PASSWORD_CHANGED = EventType(
    SERVICE,
    "password.changed",
    1,
    PasswordChanged,
    "An account's password was changed or reset; its other sessions have ended.",
)
ACCOUNT_LOCKED = EventType(
    SERVICE,
    "account.locked",
    1,
    AccountLocked,
    "Too many failed sign-ins: the account is locked for a while.",
)


class ConsentChanged(Contract):
    account_id = fields.String(required=True)
    consent = fields.String(required=True, validate=validate.OneOf(["notifications"]))
    given = fields.Boolean(required=True)


CONSENT_CHANGED = EventType(
    SERVICE,
    "consent.changed",
    1,
    ConsentChanged,
    "A person gave or withdrew a consent they may change while the cabinet exists (today: "
    "the use of their contacts for notifications). sms-notify stops non-essential messages.",
)


class AccountChanged(Contract):
    account_id = fields.String(required=True)
    revision = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={"description": "Grows by one with every change; a lower one is stale."},
    )
    iin = fields.String(allow_none=True, load_default=None, metadata={"description": "Full IIN"})
    full_name = fields.String(allow_none=True, load_default=None)
    birth_date = fields.String(allow_none=True, load_default=None)
    roles = fields.List(fields.String(), required=True)
    organization_id = fields.String(allow_none=True, load_default=None)
    phone = fields.String(allow_none=True, load_default=None, metadata={"description": "E.164"})
    email = fields.String(allow_none=True, load_default=None)
    language = fields.String(load_default="ru")
    active = fields.Boolean(load_default=True)
    notifications_consent = fields.Boolean(load_default=True)
    verified = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The person is known to be who the account says: proven against the "
            "population registry (SMS code or digital signature), made by staff, or checked "
            "from the identity document by an operator. False for a cabinet registered with "
            "data by hand until an operator verifies it: it may not apply for a kindergarten "
            "place, be an escort or subscribe to a child's grades. Always sent; missing (from "
            "an older publisher) reads as false, the safe side."
        },
    )


ACCOUNT_CHANGED = EventType(
    SERVICE,
    "account.changed",
    1,
    AccountChanged,
    "An account's current state: IIN, name, roles, organisation, contacts, language and "
    "whether the person is verified. Sent when it is created and whenever one of these "
    "changes, so services keep a local copy. "
    "Internal: it carries personal data and never leaves the platform.",
    audience=INTERNAL,
)

ALL = [
    ACCOUNT_REGISTERED,
    ACCOUNT_CHANGED,
    CODE_REQUESTED,
    PASSWORD_CHANGED,
    ACCOUNT_LOCKED,
    CONSENT_CHANGED,
]
EXCHANGES = sorted({e.exchange for e in ALL})
