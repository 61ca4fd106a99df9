"""Request and response shapes at applicant's HTTP edge. Unknown fields are refused."""

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate

from applicant.domain import lifecycle as lc
from applicant.domain import services
from applicant.domain.campaign import LANGUAGES, STUDY_FORMS, TRACKS
from applicant.domain.quotas import CATEGORIES

LANGUAGE = validate.OneOf(LANGUAGES)
TRACK = validate.OneOf(TRACKS)
FORM = validate.OneOf(STUDY_FORMS)
SLUG = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", error="1-64 letters, digits, -_.:")
CODE = validate.Regexp(r"^\d{7}$", error="A state classifier code is 7 digits, e.g. 0101000.")


def _id(**kw):
    return fields.String(validate=SLUG, **kw)


def two_decimals(value: float) -> None:
    try:
        exponent = Decimal(str(value)).as_tuple().exponent
    except InvalidOperation:
        raise ValidationError("Not a number.") from None
    if not isinstance(exponent, int) or exponent < -2:
        raise ValidationError("At most two decimals.")


class Paging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


class CollegeQuery(Paging):
    region_id = _id()
    q = fields.String(validate=validate.Length(min=1, max=100))
    language = fields.String(validate=LANGUAGE)
    specialty_code = fields.String(validate=CODE)


class CampaignQuery(Paging):
    region_id = _id()
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))


class OfferQuery(Paging):
    campaign_id = _id()
    college_id = _id()
    base_education = fields.String(validate=TRACK)
    specialty_code = fields.String(validate=CODE)
    language = fields.String(validate=LANGUAGE)


class ApplicationQuery(Paging):
    college_id = _id(metadata={"description": "Officers: the applications to their college"})
    region_id = _id(metadata={"description": "Regional officers: the region's applications"})
    campaign_id = _id()
    offer_id = _id()
    status = fields.String(validate=validate.OneOf(lc.STATUSES))


class AppealQuery(Paging):
    application_id = _id()
    status = fields.String(
        validate=validate.OneOf([lc.APPEAL_OPEN, lc.APPEAL_GRANTED, lc.APPEAL_REJECTED])
    )


class RequestQuery(Paging):
    college_id = _id()
    status = fields.String(validate=validate.OneOf(lc.REQUEST_STATUSES))
    type = fields.String(validate=validate.OneOf(services.TYPES))
    overdue = fields.Boolean()


# --- catalogue ----------------------------------------------------------------------------
NAME = validate.Length(min=2, max=300)


class RegionInput(Schema):
    id = _id()
    name_kk = fields.String(required=True, validate=NAME)
    name_ru = fields.String(required=True, validate=NAME)
    resettlement = fields.Boolean(
        load_default=False,
        metadata={"description": "Designated for rural youth moving there (its own quota)"},
    )


class Region(Schema):
    id = fields.String()
    name_kk = fields.String()
    name_ru = fields.String()
    resettlement = fields.Boolean()


class Named(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    name_kk = fields.String(required=True, validate=NAME)
    name_ru = fields.String(required=True, validate=NAME)


class Base(Schema):
    base_education = fields.String(required=True, validate=TRACK)
    duration_months = fields.Integer(required=True, validate=validate.Range(min=6, max=60))


class SpecialtyInput(Schema):
    name_kk = fields.String(required=True, validate=NAME)
    name_ru = fields.String(required=True, validate=NAME)
    qualifications = fields.List(
        fields.Nested(Named), required=True, validate=validate.Length(min=1, max=20)
    )
    languages = fields.List(
        fields.String(validate=LANGUAGE), required=True, validate=validate.Length(min=1, max=2)
    )
    study_forms = fields.List(
        fields.String(validate=FORM), required=True, validate=validate.Length(min=1, max=3)
    )
    bases = fields.List(fields.Nested(Base), required=True, validate=validate.Length(min=1, max=2))
    creative = fields.Boolean(load_default=False)


class Specialty(Schema):
    code = fields.String(metadata={"example": "0101000"})
    name_kk = fields.String()
    name_ru = fields.String()
    qualifications = fields.List(fields.Nested(Named))
    languages = fields.List(fields.String())
    study_forms = fields.List(fields.String())
    bases = fields.List(fields.Nested(Base))
    creative = fields.Boolean()


class CollegeInput(Schema):
    id = _id()
    region_id = _id(required=True)
    name_kk = fields.String(required=True, validate=NAME)
    name_ru = fields.String(required=True, validate=NAME)
    address = fields.String(required=True, validate=validate.Length(min=2, max=500))
    languages = fields.List(
        fields.String(validate=LANGUAGE), required=True, validate=validate.Length(min=1, max=2)
    )


class CollegePatch(Schema):
    name_kk = fields.String(validate=NAME)
    name_ru = fields.String(validate=NAME)
    address = fields.String(validate=validate.Length(min=2, max=500))
    languages = fields.List(
        fields.String(validate=LANGUAGE), validate=validate.Length(min=1, max=2)
    )


class College(Schema):
    id = fields.String()
    region_id = fields.String()
    name_kk = fields.String()
    name_ru = fields.String()
    address = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    specialty_codes = fields.List(fields.String())


class CollegeDetail(College):
    specialties = fields.List(fields.Nested(Specialty))


# --- campaigns and offers -----------------------------------------------------------------
class Dates(Schema):
    opens = fields.Date(required=True)
    closes = fields.Date(required=True)


class DatesPatch(Schema):
    opens = fields.Date()
    closes = fields.Date()


class TracksInput(Schema):
    after_9 = fields.Nested(DatesPatch)
    after_11 = fields.Nested(DatesPatch)
    creative_closes = fields.Date()


class CampaignInput(Schema):
    id = _id()
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    region_id = _id(required=True)
    tracks = fields.Nested(
        TracksInput,
        load_default=dict,
        metadata={"description": "Defaults: 25 June-18 August (after 9), 25 June-20 August "
                  "(after 11), creative specialties to 20 July; Almaty dates"},
    )  # fmt: skip
    copy_offers_from = _id(metadata={"description": "Copy the places of an earlier campaign"})


class CampaignPatch(Schema):
    tracks = fields.Nested(TracksInput, required=True)


class Tracks(Schema):
    after_9 = fields.Nested(Dates)
    after_11 = fields.Nested(Dates)
    creative_closes = fields.Date()


class Campaign(Schema):
    id = fields.String()
    year = fields.Integer()
    region_id = fields.String()
    tracks = fields.Nested(Tracks)
    open = fields.Dict(keys=fields.String(), values=fields.Boolean())
    creative_open = fields.Dict(keys=fields.String(), values=fields.Boolean())
    offers = fields.Integer()


SEATS = validate.Range(min=0, max=10_000)


class OfferInput(Schema):
    college_id = _id(required=True)
    specialty_code = fields.String(required=True, validate=CODE)
    language = fields.String(required=True, validate=LANGUAGE)
    study_form = fields.String(required=True, validate=FORM)
    base_education = fields.String(required=True, validate=TRACK)
    state_order_seats = fields.Integer(required=True, validate=SEATS)
    paid_seats = fields.Integer(load_default=0, validate=SEATS)
    rural = fields.Boolean(
        load_default=False, metadata={"description": "Serves rural areas: the rural quota"}
    )


class OfferPatch(Schema):
    state_order_seats = fields.Integer(validate=SEATS)
    paid_seats = fields.Integer(validate=SEATS)
    rural = fields.Boolean()


class PoolResult(Schema):
    seats = fields.Integer()
    filled = fields.Integer()
    cutoff = fields.Float(allow_none=True)


class OfferResults(Schema):
    wave = fields.Integer()
    pools = fields.Dict(keys=fields.String(), values=fields.Nested(PoolResult))


class Offer(Schema):
    id = fields.String()
    campaign_id = fields.String()
    region_id = fields.String()
    college_id = fields.String()
    college_name_kk = fields.String()
    college_name_ru = fields.String()
    specialty_code = fields.String()
    specialty_name_kk = fields.String()
    specialty_name_ru = fields.String()
    language = fields.String()
    study_form = fields.String()
    base_education = fields.String()
    duration_months = fields.Integer(allow_none=True)
    creative = fields.Boolean()
    rural = fields.Boolean()
    state_order_seats = fields.Integer()
    paid_seats = fields.Integer()
    quota_seats = fields.Dict(keys=fields.String(), values=fields.Integer())
    general_seats = fields.Integer()
    results = fields.Nested(OfferResults, allow_none=True)


class RankingRow(Schema):
    position = fields.Integer()
    applicant_iin_masked = fields.String()
    certificate_average = fields.Float()
    choice_rank = fields.Integer()
    quota_claim = fields.Boolean()
    pool = fields.String(allow_none=True)
    outcome = fields.String(
        metadata={"enum": ["competing", "admitted", "admitted_elsewhere", "not_admitted",
                           "enrolled_here", "elsewhere"]}
    )  # fmt: skip


class Ranking(Schema):
    offer_id = fields.String()
    wave = fields.Integer(allow_none=True)
    items = fields.List(fields.Nested(RankingRow))
    next_cursor = fields.String(allow_none=True)


# --- applications -------------------------------------------------------------------------
class ChoiceInput(Schema):
    offer_id = _id(required=True)


class ApplicationInput(Schema):
    campaign_id = _id(required=True)
    base_education = fields.String(required=True, validate=TRACK)
    certificate_average = fields.Float(
        required=True, validate=[validate.Range(min=0, max=100), two_decimals],
        metadata={"example": 4.3},
    )  # fmt: skip
    choices = fields.List(fields.Nested(ChoiceInput), required=True,
                          validate=validate.Length(min=1, max=10))  # fmt: skip
    quota_claims = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)),
                               load_default=list,
                               validate=validate.Length(max=len(CATEGORIES)))  # fmt: skip


class ApplicationPatch(Schema):
    certificate_average = fields.Float(validate=[validate.Range(min=0, max=100), two_decimals])
    choices = fields.List(fields.Nested(ChoiceInput), validate=validate.Length(min=1, max=10))
    quota_claims = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)),
                               validate=validate.Length(max=len(CATEGORIES)))  # fmt: skip


class Document(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": list(lc.DOCUMENT_KINDS)})
    quota = fields.String(allow_none=True)
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    status = fields.String(metadata={"enum": [lc.DOC_PENDING, lc.DOC_ACCEPTED, lc.DOC_RETURNED]})
    reason = fields.String(allow_none=True)
    uploaded_at = fields.AwareDateTime()


class ChoiceView(Schema):
    rank = fields.Integer()
    offer_id = fields.String()
    college_id = fields.String()
    college_name_kk = fields.String(allow_none=True)
    college_name_ru = fields.String(allow_none=True)
    specialty_code = fields.String(allow_none=True)
    specialty_name_kk = fields.String(allow_none=True)
    specialty_name_ru = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    study_form = fields.String(allow_none=True)
    creative = fields.Boolean()
    exam_passed = fields.Boolean(allow_none=True)


class Allocation(Schema):
    offer_id = fields.String()
    pool = fields.String(allow_none=True)
    cutoff = fields.Float(allow_none=True)
    wave = fields.Integer(allow_none=True)
    confirm_by = fields.AwareDateTime(allow_none=True)


class ChoiceOutcome(Schema):
    offer_id = fields.String()
    rank = fields.Integer()
    pool = fields.String()
    cutoff = fields.Float(allow_none=True)
    general_cutoff = fields.Float(allow_none=True)
    outcome = fields.String(
        metadata={"enum": ["allocated", "not_needed", "exam_not_passed", "no_seats",
                           "below_cutoff"]}
    )  # fmt: skip
    note = fields.String()


class Results(Schema):
    wave = fields.Integer()
    appeal_by = fields.AwareDateTime()
    choices = fields.List(fields.Nested(ChoiceOutcome))


class Application(Schema):
    id = fields.String()
    status = fields.String(metadata={"enum": list(lc.STATUSES)})
    campaign_id = fields.String()
    region_id = fields.String()
    year = fields.Integer()
    base_education = fields.String()
    certificate_average = fields.Float()
    quota_claims = fields.List(fields.String())
    choices = fields.List(fields.Nested(ChoiceView))
    applicant_iin_masked = fields.String()
    consent_required = fields.Boolean()
    consent = fields.Dict(allow_none=True)
    documents = fields.List(fields.Nested(Document))
    review = fields.Dict(allow_none=True)
    created_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime(allow_none=True)
    accepted_at = fields.AwareDateTime(allow_none=True)
    allocated_offer_id = fields.String(allow_none=True)
    allocation = fields.Nested(Allocation, allow_none=True)
    results = fields.Nested(Results, allow_none=True)
    enrolment = fields.Dict(allow_none=True)
    declined_reason = fields.String(allow_none=True)


class Consent(Schema):
    application_id = fields.String()
    representative_account_id = fields.String()
    representative_iin_masked = fields.String()
    recorded_at = fields.AwareDateTime()


class ReviewInput(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["accepted", "returned"]))
    reasons = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.String(validate=validate.Length(max=1000)),
        load_default=dict,
        validate=validate.Length(max=20),
        metadata={"description": "document id -> why it is returned"},
    )


class ExamInput(Schema):
    offer_id = _id(required=True)
    passed = fields.Boolean(required=True)


class EnrolmentInput(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "decline"]))


class AllocationInput(Schema):
    base_education = fields.String(required=True, validate=TRACK)


class Run(Schema):
    id = fields.String()
    campaign_id = fields.String()
    base_education = fields.String()
    wave = fields.Integer()
    status = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    requested_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    confirm_by = fields.AwareDateTime(allow_none=True)
    appeal_by = fields.AwareDateTime(allow_none=True)
    counts = fields.Dict(allow_none=True)
    announced = fields.Boolean()


class AppealInput(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class AppealDecision(Schema):
    decision = fields.String(
        required=True, validate=validate.OneOf([lc.APPEAL_GRANTED, lc.APPEAL_REJECTED])
    )
    reason = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    certificate_average = fields.Float(
        validate=[validate.Range(min=0, max=100), two_decimals],
        metadata={"description": "The corrected average, when a granted appeal re-scores"},
    )


class Appeal(Schema):
    id = fields.String()
    application_id = fields.String()
    wave = fields.Integer()
    reason = fields.String()
    status = fields.String()
    decision_reason = fields.String(allow_none=True)
    previous_average = fields.Float(allow_none=True)
    new_average = fields.Float(allow_none=True)
    filed_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)


# --- students and their requests ----------------------------------------------------------
class Student(Schema):
    id = fields.String()
    college_id = fields.String()
    college_name_kk = fields.String()
    college_name_ru = fields.String()
    specialty_code = fields.String()
    specialty_name_kk = fields.String()
    specialty_name_ru = fields.String()
    language = fields.String()
    study_form = fields.String()
    group = fields.String(allow_none=True)
    status = fields.String()
    enrolled_at = fields.AwareDateTime()
    services = fields.List(fields.String())


class GroupInput(Schema):
    group = fields.String(required=True, validate=validate.Length(min=1, max=50))


TEXT = validate.Length(min=1, max=2000)


class EnrolmentFields(Schema):
    specialty_code = fields.String(required=True, validate=CODE)
    language = fields.String(required=True, validate=LANGUAGE)
    study_form = fields.String(required=True, validate=FORM)
    basis = fields.String(load_default="paid", validate=validate.OneOf(["paid", "state_order"]))


class AppealFields(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=TEXT)


class DormitoryFields(Schema):
    reason = fields.String(validate=TEXT)


class FreeMealsFields(Schema):
    category = fields.String(
        required=True,
        validate=validate.OneOf(["orphan", "disability", "low_income", "large_family"]),
    )


class LeaveFields(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(["medical", "military_service", "childbirth", "family"]),
    )
    from_date = fields.Date(required=True)
    to_date = fields.Date(required=True)


class ReturnFields(Schema):
    from_date = fields.Date(required=True)


class TransferFields(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["transfer", "reinstatement"]))
    from_college = fields.String(validate=validate.Length(max=300))
    specialty_code = fields.String(validate=CODE)


class DuplicateFields(Schema):
    document = fields.String(
        required=True,
        validate=validate.OneOf(["diploma", "transcript", "student_card", "certificate"]),
    )
    reason = fields.String(required=True, validate=TEXT)


class CertificateFields(Schema):
    purpose = fields.String(validate=TEXT)


REQUEST_FIELDS = {
    services.ENROLMENT: EnrolmentFields,
    services.APPEAL: AppealFields,
    services.DORMITORY: DormitoryFields,
    services.FREE_MEALS: FreeMealsFields,
    services.ACADEMIC_LEAVE: LeaveFields,
    services.RETURN_FROM_LEAVE: ReturnFields,
    services.TRANSFER_REINSTATEMENT: TransferFields,
    services.DOCUMENT_DUPLICATE: DuplicateFields,
    services.INCOMPLETE_STUDIES_CERTIFICATE: CertificateFields,
}
assert set(REQUEST_FIELDS) == set(services.TYPES)


class RequestInput(Schema):
    type = fields.String(required=True, validate=validate.OneOf(services.TYPES))
    college_id = _id(metadata={"description": "Required for enrolment; else the student's"})
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        load_default=dict,
        metadata={"description": "The service's own fields (see the README)"},
    )


class StatusInput(Schema):
    status = fields.String(required=True, validate=validate.OneOf(lc.REQUEST_STATUSES))
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class Attachment(Schema):
    id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    uploaded_at = fields.AwareDateTime()


class HistoryEntry(Schema):
    status = fields.String()
    at = fields.AwareDateTime()
    by = fields.String()
    reason = fields.String(allow_none=True)


class Request(Schema):
    id = fields.String()
    type = fields.String()
    college_id = fields.String()
    student_id = fields.String(allow_none=True)
    applicant_iin_masked = fields.String()
    fields_ = fields.Dict(data_key="fields", attribute="fields")
    status = fields.String()
    reason = fields.String(allow_none=True)
    deadline = fields.AwareDateTime()
    overdue = fields.Boolean()
    submitted_at = fields.AwareDateTime()
    history = fields.List(fields.Nested(HistoryEntry))
    documents = fields.List(fields.Nested(Attachment))


def page_of(item) -> type[Schema]:
    return type(
        f"{item.__name__}Page",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(allow_none=True),
        },
    )


RegionPage = page_of(Region)
CollegePage = page_of(College)
CampaignPage = page_of(Campaign)
OfferPage = page_of(Offer)
ApplicationPage = page_of(Application)
AppealPage = page_of(Appeal)
StudentPage = page_of(Student)
RequestPage = page_of(Request)
