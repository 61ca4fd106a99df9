"""The events identity publishes. Payloads are versioned; a breaking change is a new version."""

from marshmallow import Schema, fields, validate

from edu_common.accounts import ACCOUNT_CHANGED
from edu_common.envelope import INTERNAL, EventType

SERVICE = "identity"


class AccountRegistered(Schema):
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


class CodeRequested(Schema):
    challenge_id = fields.String(required=True)
    purpose = fields.String(
        required=True,
        validate=validate.OneOf(
            ["email_confirmation", "login", "password_reset", "initial_password"]
        ),
    )
    channel = fields.String(required=True, validate=validate.OneOf(["email", "sms"]))
    to = fields.String(required=True, metadata={"description": "E-mail or E.164 phone"})
    code = fields.String(required=True, metadata={"description": "The secret to deliver"})
    language = fields.String(required=True, validate=validate.OneOf(["kk", "ru", "en"]))
    expires_at = fields.AwareDateTime(required=True)
    account_id = fields.String(allow_none=True)


class PasswordChanged(Schema):
    account_id = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["change", "reset", "first"]))
    sessions_ended = fields.Integer(required=True)


class AccountLocked(Schema):
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


class ConsentChanged(Schema):
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

# identity.account.changed.v1 (internal) is defined in the shared library, beside the code
# every consuming service uses to keep its copy of the accounts: one contract, one place.
ALL = [
    ACCOUNT_REGISTERED,
    ACCOUNT_CHANGED,
    CODE_REQUESTED,
    PASSWORD_CHANGED,
    ACCOUNT_LOCKED,
    CONSENT_CHANGED,
]
EXCHANGES = sorted({e.exchange for e in ALL})
