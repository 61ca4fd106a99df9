"""Request and response shapes at identity's HTTP edge. Unknown fields are refused."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from identity.domain import roles

IIN = fields.String(
    required=True,
    validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."),
    metadata={"example": "950423451048"},
)
LANGUAGE = validate.OneOf(["kk", "ru", "en"])
Password = fields.String(required=True, validate=validate.Length(min=1, max=256), load_only=True)


class RegistrationStart(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    language = fields.String(validate=LANGUAGE)  # else from Accept-Language


class Warning_(Schema):
    code = fields.String()
    message = fields.String()


class RegistrationView(Schema):
    id = fields.String()
    email = fields.String()
    email_confirmed = fields.Boolean()
    person = fields.Dict(allow_none=True)
    phone = fields.String(allow_none=True)
    password_set = fields.Boolean()
    next_step = fields.String(
        metadata={"enum": ["email_confirmation", "person", "contacts", "password", "complete"]}
    )
    expires_at = fields.AwareDateTime()
    warnings = fields.List(fields.Nested(Warning_))


class CodeInput(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class Document(Schema):
    type = fields.String(
        required=True, validate=validate.OneOf(["passport", "id_card", "residence_permit"])
    )
    number = fields.String(required=True, validate=validate.Length(min=3, max=32))
    issued_at = fields.Date(required=True)
    issuer = fields.String(required=True, validate=validate.Length(min=2, max=200))


class PersonInput(Schema):
    """Citizens give only the IIN; foreigners give their data and identity document by hand."""

    iin = fields.String(validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."))
    surname = fields.String(validate=validate.Length(min=1, max=100))
    name = fields.String(validate=validate.Length(min=1, max=100))
    patronymic = fields.String(validate=validate.Length(max=100), allow_none=True)
    birth_date = fields.Date()
    sex = fields.String(validate=validate.OneOf(["male", "female"]))
    citizenship = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$"))
    document = fields.Nested(Document)
    registered_address = fields.String(validate=validate.Length(max=300))
    actual_address = fields.String(validate=validate.Length(max=300))

    @validates_schema
    def _citizen_or_manual(self, data, **_):
        manual = ("surname", "name", "birth_date", "sex", "citizenship", "document")
        if not any(k in data for k in manual):
            if "iin" not in data:
                raise ValidationError("Give the IIN.", "iin")
            return
        missing = {k: ["Missing data for required field."] for k in manual if k not in data}
        if missing:
            raise ValidationError(missing)


class ContactsInput(Schema):
    phone = fields.String(required=True, validate=validate.Length(min=5, max=20))


class PasswordInput(Schema):
    password = Password
    password_confirmation = Password


class Consents(Schema):
    personal_data = fields.Boolean(required=True)
    notifications = fields.Boolean(required=True)
    rules = fields.Boolean(required=True)


class CompleteInput(Schema):
    consents = fields.Nested(Consents, required=True)


class AccountCreated(Schema):
    account_id = fields.String()


class PasswordLogin(Schema):
    iin = IIN
    password = Password


class TokenPair(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    refresh_token = fields.String()
    password_change_required = fields.Boolean()


class OtpRequest(Schema):
    iin = IIN
    phone = fields.String(required=True, validate=validate.Length(min=5, max=20))


class Challenge(Schema):
    challenge_id = fields.String()
    expires_at = fields.AwareDateTime()


class OtpLogin(Schema):
    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class EdsChallenge(Schema):
    challenge_id = fields.String()
    nonce = fields.String()
    expires_at = fields.AwareDateTime()


class EdsLogin(Schema):
    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    certificate = fields.String(required=True, validate=validate.Length(min=1, max=65536))
    signature = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class RefreshInput(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordChange(Schema):
    current_password = Password
    new_password = Password
    new_password_confirmation = Password


class PasswordChanged(Schema):
    changed = fields.Boolean()
    other_sessions_ended = fields.Integer()


class ResetStart(Schema):
    email = fields.Email(validate=validate.Length(max=254))
    iin = fields.String(validate=validate.Regexp(r"^\d{12}$", error="An IIN is 12 digits."))


class ResetStarted(Schema):
    id = fields.String()
    expires_at = fields.AwareDateTime()


class ResetComplete(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    new_password = Password
    new_password_confirmation = Password


class AccountInput(Schema):
    iin = IIN
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(min=5, max=20))
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(roles.ALL_ROLES))),
        required=True,
        validate=validate.Length(min=1, max=6),
    )
    organization_id = fields.String(validate=validate.Length(min=1, max=64))
    language = fields.String(load_default="ru", validate=LANGUAGE)


class RolesInput(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(roles.ALL_ROLES))),
        required=True,
        validate=validate.Length(min=1, max=6),
    )
    organization_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )


class Account(Schema):
    id = fields.String()
    iin = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    organization_id = fields.String(allow_none=True)
    person = fields.Dict(allow_none=True)
    language = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    password_changed_at = fields.AwareDateTime(allow_none=True)
    must_change_password = fields.Boolean()
    consents = fields.Dict()
    password_sent_to = fields.String()


class AuditQuery(Schema):
    account_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before = fields.AwareDateTime()


class AuditEntry(Schema):
    id = fields.String(attribute="_id")
    at = fields.AwareDateTime()
    type = fields.String()
    account_id = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    client = fields.String(allow_none=True)
    detail = fields.Dict()


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditEntry))
    next_before = fields.AwareDateTime(allow_none=True)


class ConsentsChange(Schema):
    """Only the notifications consent can change while the cabinet exists: the other two are
    what the cabinet stands on."""

    notifications = fields.Boolean(required=True)


class ConsentEntry(Schema):
    given = fields.Boolean()
    at = fields.AwareDateTime()


class ConsentsView(Schema):
    personal_data = fields.Nested(ConsentEntry)
    notifications = fields.Nested(ConsentEntry)
    rules = fields.Nested(ConsentEntry)
