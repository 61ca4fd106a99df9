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


class IinProof(Schema):
    """What step 2 asks to prove, before any of the person's data is shown."""

    iin_masked = fields.String(metadata={"example": "********1048"})
    methods = fields.List(
        fields.String(metadata={"enum": ["sms", "eds"]}),
        metadata={"description": "sms: a code to a linked phone; eds: a digital signature"},
    )
    phones = fields.List(
        fields.String(),
        metadata={"description": "Masked hints of the linked phones, e.g. +7 701 ***-**-01"},
    )
    sms_sent_to = fields.String(allow_none=True, metadata={"example": "+7 701 ***-**-01"})
    code_expires_at = fields.AwareDateTime(allow_none=True)
    confirmed = fields.Boolean()
    method = fields.String(allow_none=True, metadata={"enum": ["sms", "eds"]})


STEPS = [
    "email_confirmation",
    "person",
    "person_confirmation",
    "contacts",
    "contacts_confirmation",
    "password",
    "complete",
]


class RegistrationView(Schema):
    id = fields.String()
    email = fields.String()
    email_confirmed = fields.Boolean()
    iin_proof = fields.Nested(IinProof, allow_none=True)
    person = fields.Dict(
        allow_none=True,
        metadata={"description": "Only once the IIN is proven (or entered by hand)"},
    )
    verified = fields.Boolean(
        allow_none=True,
        metadata={"description": "false for data by hand: an operator verifies them later"},
    )
    phone = fields.String(allow_none=True)
    phone_confirmed = fields.Boolean()
    phone_confirmed_by = fields.String(allow_none=True, metadata={"enum": ["code", "iin_proof"]})
    password_set = fields.Boolean()
    next_step = fields.String(metadata={"enum": STEPS})
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
    """The IIN. One the registry knows is then proven (`proof`: a code by SMS, sent at once, or
    a digital signature); only an IIN it does not know comes with the data and identity
    document by hand (foreigners without a record)."""

    iin = IIN
    proof = fields.String(load_default="sms", validate=validate.OneOf(["sms", "eds"]))
    phone_index = fields.Integer(load_default=0, validate=validate.Range(min=0, max=9))
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
            return
        missing = {k: ["Missing data for required field."] for k in manual if k not in data}
        if missing:
            raise ValidationError(missing)


class PhoneChoice(Schema):
    phone_index = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=9),
        metadata={"description": "Which of iin_proof.phones the code goes to"},
    )


CERTIFICATE = fields.String(
    validate=validate.Length(min=1, max=65536),
    metadata={"description": "PEM, the signer's certificate first (then intermediates)"},
)
SIGNATURE = fields.String(
    validate=validate.Length(min=1, max=4096),
    metadata={"description": "base64 RSA-SHA256 (PKCS#1 v1.5) over the nonce's UTF-8 bytes"},
)
CMS = fields.String(
    validate=validate.Length(min=1, max=65536),
    metadata={
        "description": "base64 DER CMS (CAdES-BES) of the nonce, attached or detached, with the "
        "signer's certificate embedded: what NCALayer's createCAdESFromBase64 returns"
    },
)


def _one_signature(data: dict) -> None:
    """Either {certificate, signature} or {cms}, with the challenge."""
    if "cms" in data:
        extra = [k for k in ("certificate", "signature") if k in data]
        if extra:
            raise ValidationError("Give either the cms or the certificate and signature.", extra[0])
        return
    pair = ("certificate", "signature")
    missing = {k: ["Missing data for required field."] for k in pair if k not in data}
    if missing:
        raise ValidationError(missing)


class PersonConfirm(Schema):
    """The proof of the IIN: {code} from the SMS, or a signature of this registration's nonce
    ({challenge_id, cms} or {challenge_id, certificate, signature})."""

    code = fields.String(validate=validate.Length(min=1, max=16))
    challenge_id = fields.String(validate=validate.Length(min=1, max=64))
    certificate = CERTIFICATE
    signature = SIGNATURE
    cms = CMS

    @validates_schema
    def _code_or_signature(self, data, **_):
        if "code" in data:
            extra = [k for k in ("challenge_id", "certificate", "signature", "cms") if k in data]
            if extra:
                raise ValidationError("Give either the code or a signature.", extra[0])
            return
        if "challenge_id" not in data:
            raise ValidationError("Give the code, or the challenge_id and a signature.", "code")
        _one_signature(data)


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
    """{challenge_id, certificate, signature} or {challenge_id, cms}."""

    challenge_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    certificate = CERTIFICATE
    signature = SIGNATURE
    cms = CMS

    @validates_schema
    def _signature(self, data, **_):
        _one_signature(data)


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
    password_change_required = fields.Boolean(
        metadata={"description": "GET /me: the password must be changed before anything else"}
    )
    verified = fields.Boolean(
        metadata={
            "description": "Whether the person is known to be who the account says (registry "
            "proof, made by staff, or an operator's check of the identity document)"
        }
    )
    consents = fields.Dict()
    password_sent_to = fields.String()


class VerificationInput(Schema):
    document_checked = fields.Boolean(
        required=True, metadata={"description": "true: the identity document was seen"}
    )
    note = fields.String(validate=validate.Length(max=500), allow_none=True)


class SchoolAccountInput(Schema):
    """A pupil's parent, by a school's deputy head: the IIN must be in the population registry;
    the one-time password goes by SMS to `phone`, or else to the phone the mobile-citizens
    database links to the IIN."""

    iin = IIN
    phone = fields.String(validate=validate.Length(min=5, max=20))
    email = fields.Email(validate=validate.Length(max=254))
    language = fields.String(load_default="ru", validate=LANGUAGE)


class RowReason(Schema):
    field = fields.String()
    code = fields.String()
    message = fields.String()


class CreatedRow(Schema):
    row = fields.Integer(metadata={"description": "Line in the file (the header is line 1)"})
    iin_masked = fields.String()
    account_id = fields.String()
    password_sent_to = fields.String(metadata={"example": "+7 701 ***-**-01"})
    verified = fields.Boolean()


class RefusedRow(Schema):
    row = fields.Integer()
    iin_masked = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(RowReason))


class ImportReport(Schema):
    rows = fields.Integer()
    created = fields.List(fields.Nested(CreatedRow))
    refused = fields.List(fields.Nested(RefusedRow))
    ignored_columns = fields.List(fields.String())


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
