"""The events applicant publishes, the contract applicant and sms-notify both import. Payloads
are versioned; a breaking change is a new version.

All of them go to ``applicant.events``: the statistics agency may bind to them. They carry
ids, the applicant's masked IIN (``********2034``), colleges and specialties by code and name,
and scores; never a person's name, a document or a full IIN, and no officer's free text (the
reasons are in the cabinet). sms-notify finds the person's contacts and language from
``applicant_account_id`` in its copy of identity's accounts.
"""

from marshmallow import fields, validate

from edu_common.contracts import Contract
from edu_common.envelope import EventType

SERVICE = "applicant"

# The vocabulary on the wire (applicant's domain has the same words; a test keeps them equal).
TRACKS = ("after_9", "after_11")
QUOTA_CATEGORIES = (
    "disability",
    "veteran_equated",
    "orphan",
    "kandas",
    "rural",
    "rural_resettlement",
)
POOLS = (*QUOTA_CATEGORIES, "general")
DOCUMENT_KINDS = ("education_document", "photo", "medical_075u", "medical_031u", "quota_proof")
DECLINE_REASONS = ("declined", "lapsed")
APPEAL_DECISIONS = ("granted", "rejected")
REQUEST_STATUSES = ("submitted", "in_review", "approved", "refused", "done")
REQUEST_TYPES = (
    "enrolment",
    "appeal",
    "dormitory",
    "free_meals",
    "academic_leave",
    "return_from_academic_leave",
    "transfer_reinstatement",
    "document_duplicate",
    "incomplete_studies_certificate",
)


class _Whose(Contract):
    applicant_account_id = fields.String(
        required=True, metadata={"description": "identity's account id of the applicant"}
    )
    applicant_iin_masked = fields.String(
        required=True, metadata={"description": "Last four digits only: ********2034"}
    )


class _Application(_Whose):
    application_id = fields.String(required=True)
    campaign_id = fields.String(required=True)
    region_id = fields.String(required=True)
    year = fields.Integer(required=True)
    base_education = fields.String(required=True, validate=validate.OneOf(TRACKS))


class _College(Contract):
    college_id = fields.String(required=True)
    college_name_kk = fields.String(required=True)
    college_name_ru = fields.String(required=True)


class _Offer(_College):
    offer_id = fields.String(required=True)
    specialty_code = fields.String(required=True, metadata={"example": "0101000"})
    specialty_name_kk = fields.String(required=True)
    specialty_name_ru = fields.String(required=True)
    language = fields.String(required=True)
    study_form = fields.String(required=True)


class Choice(Contract):
    offer_id = fields.String(required=True)
    college_id = fields.String(required=True)
    specialty_code = fields.String(required=True)


class ApplicationSubmitted(_Application):
    choices = fields.List(fields.Nested(Choice), required=True)
    quota_claims = fields.List(
        fields.String(validate=validate.OneOf(QUOTA_CATEGORIES)), required=True
    )
    certificate_average = fields.Float(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    resubmission = fields.Boolean(
        required=True, metadata={"description": "After documents were returned"}
    )


class DocumentsReturned(_Application, _College):
    returned_kinds = fields.List(
        fields.String(validate=validate.OneOf(DOCUMENT_KINDS)),
        required=True,
        metadata={"description": "Which documents to upload again; the reasons are in the "
                  "cabinet"},
    )  # fmt: skip


class ApplicationAccepted(_Application, _College):
    pass


class ApplicationAllocated(_Application, _Offer):
    wave = fields.Integer(required=True)
    pool = fields.String(required=True, validate=validate.OneOf(POOLS))
    cutoff = fields.Float(allow_none=True, metadata={"description": "Lowest average admitted"})
    certificate_average = fields.Float(required=True)
    choice_rank = fields.Integer(required=True, metadata={"description": "1 = first choice"})
    confirm_by = fields.AwareDateTime(required=True)
    appeal_by = fields.AwareDateTime(required=True)


class ChoiceCutoff(Contract):
    offer_id = fields.String(required=True)
    pool = fields.String(required=True)
    cutoff = fields.Float(allow_none=True)


class ApplicationNotAllocated(_Application):
    wave = fields.Integer(required=True)
    certificate_average = fields.Float(required=True)
    cutoffs = fields.List(fields.Nested(ChoiceCutoff), required=True)
    appeal_by = fields.AwareDateTime(required=True)


class ApplicationEnrolled(_Application, _Offer):
    pass


class ApplicationDeclined(_Application, _Offer):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(DECLINE_REASONS),
        metadata={"description": "declined by the applicant, or lapsed unconfirmed"},
    )


class ApplicationWithdrawn(_Application):
    pass


class AppealDecided(_Application):
    appeal_id = fields.String(required=True)
    decision = fields.String(
        required=True,
        validate=validate.OneOf(APPEAL_DECISIONS),
    )
    certificate_average = fields.Float(
        required=True, metadata={"description": "After the decision (re-scored if granted)"}
    )


class RequestStatusChanged(_Whose, _College):
    request_id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(REQUEST_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    previous_status = fields.String(allow_none=True, validate=validate.OneOf(REQUEST_STATUSES))
    deadline = fields.AwareDateTime(required=True)
    changed_at = fields.AwareDateTime(required=True)


class RequestOverdue(_Whose, _College):
    request_id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(REQUEST_TYPES))
    status = fields.String(required=True, validate=validate.OneOf(REQUEST_STATUSES))
    deadline = fields.AwareDateTime(required=True)


def _event(name, schema, description) -> EventType:
    return EventType(SERVICE, name, 1, schema, description)


SUBMITTED = _event(
    "application.submitted",
    ApplicationSubmitted,
    "An applicant submitted (or, after returned documents, resubmitted) an application to "
    "up to four colleges; the first-choice college's officers review it.",
)
DOCUMENTS_RETURNED = _event(
    "application.documents_returned",
    DocumentsReturned,
    "The first-choice college returned documents to upload again; the reasons are in the "
    "applicant's cabinet.",
)
ACCEPTED = _event(
    "application.accepted",
    ApplicationAccepted,
    "The first-choice college accepted the documents: the application takes part in the "
    "allocation of its track.",
)
ALLOCATED = _event(
    "application.allocated",
    ApplicationAllocated,
    "An allocation wave gave the application a state-order seat; the applicant confirms "
    "enrolment before confirm_by or the seat lapses.",
)
NOT_ALLOCATED = _event(
    "application.not_allocated",
    ApplicationNotAllocated,
    "An allocation wave gave the application no seat; the cutoffs of its choices.",
)
ENROLLED = _event(
    "application.enrolled",
    ApplicationEnrolled,
    "The applicant confirmed enrolment: a student of the college from now on.",
)
DECLINED = _event(
    "application.declined",
    ApplicationDeclined,
    "The applicant declined the seat, or did not confirm it in time (lapsed); the seat goes "
    "to the next wave.",
)
WITHDRAWN = _event(
    "application.withdrawn", ApplicationWithdrawn, "The applicant withdrew the application."
)
APPEAL_DECIDED = _event(
    "application.appeal_decided",
    AppealDecided,
    "An officer decided the applicant's appeal of a wave's results; a granted appeal "
    "re-scores the application before the next wave.",
)
REQUEST_STATUS_CHANGED = _event(
    "request.status_changed",
    RequestStatusChanged,
    "A student's request for a college's state service was submitted or moved on "
    "(in review, approved, refused, done).",
)
REQUEST_OVERDUE = _event(
    "request.overdue",
    RequestOverdue,
    "A request passed its deadline unanswered: for the student and the college's officers.",
)

ALL = [
    SUBMITTED,
    DOCUMENTS_RETURNED,
    ACCEPTED,
    ALLOCATED,
    NOT_ALLOCATED,
    ENROLLED,
    DECLINED,
    WITHDRAWN,
    APPEAL_DECIDED,
    REQUEST_STATUS_CHANGED,
    REQUEST_OVERDUE,
]
EXCHANGES = sorted({e.exchange for e in ALL})
