"""Lifecycles: an application's statuses and a student request's, with the moves allowed.

Stored statuses change through ``move`` only. ``allocated`` and ``not_allocated`` are not
stored on the application: they are the results of an allocation wave over the accepted
applications (docs/decisions/0013-allocation.md); ``effective_status`` says which applies.
"""

from __future__ import annotations

from applicant.domain.quotas import DISABILITY

# --- applications -------------------------------------------------------------------------
DRAFT = "draft"
SUBMITTED = "submitted"
DOCUMENTS_RETURNED = "documents_returned"
ACCEPTED = "accepted"
ALLOCATED = "allocated"
NOT_ALLOCATED = "not_allocated"
ENROLLED = "enrolled"
DECLINED = "declined"
WITHDRAWN = "withdrawn"
STATUSES = (
    DRAFT,
    SUBMITTED,
    DOCUMENTS_RETURNED,
    ACCEPTED,
    ALLOCATED,
    NOT_ALLOCATED,
    ENROLLED,
    DECLINED,
    WITHDRAWN,
)
STORED = (DRAFT, SUBMITTED, DOCUMENTS_RETURNED, ACCEPTED, ENROLLED, DECLINED, WITHDRAWN)

# action -> (from stored statuses, to)
SUBMIT = "submit"
RETURN_DOCUMENTS = "return_documents"
ACCEPT = "accept"
WITHDRAW = "withdraw"
REOPEN_REVIEW = "reopen_review"  # the first-choice college changed: its officers review anew
CONFIRM = "confirm"
DECLINE = "decline"
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    SUBMIT: ((DRAFT, DOCUMENTS_RETURNED), SUBMITTED),
    RETURN_DOCUMENTS: ((SUBMITTED,), DOCUMENTS_RETURNED),
    ACCEPT: ((SUBMITTED,), ACCEPTED),
    WITHDRAW: ((DRAFT, SUBMITTED, DOCUMENTS_RETURNED, ACCEPTED), WITHDRAWN),
    REOPEN_REVIEW: ((ACCEPTED,), SUBMITTED),
    # Only an application whose effective status is allocated (the use case checks it).
    CONFIRM: ((ACCEPTED,), ENROLLED),
    DECLINE: ((ACCEPTED,), DECLINED),
}
ACTIVE = (DRAFT, SUBMITTED, DOCUMENTS_RETURNED, ACCEPTED, ENROLLED)  # one per person/campaign
EDITABLE_CHOICES = (DRAFT, SUBMITTED, DOCUMENTS_RETURNED, ACCEPTED)
UPLOADS_ALLOWED = (DRAFT, DOCUMENTS_RETURNED)
DECLINED_BY_APPLICANT = "declined"
DECLINED_LAPSED = "lapsed"


class TransitionRefused(Exception):
    def __init__(self, action: str, status: str):
        super().__init__(f"{action} is not allowed from {status}")
        self.action = action
        self.status = status


def move(status: str, action: str) -> str:
    allowed, to = TRANSITIONS[action]
    if status not in allowed:
        raise TransitionRefused(action, status)
    return to


def sources(action: str) -> tuple[str, ...]:
    return TRANSITIONS[action][0]


def effective_status(stored: str, placed: bool | None) -> str:
    """``placed``: None when no wave has decided on this accepted application yet."""
    if stored != ACCEPTED or placed is None:
        return stored
    return ALLOCATED if placed else NOT_ALLOCATED


# --- documents ----------------------------------------------------------------------------
EDUCATION_DOCUMENT = "education_document"  # with its grade sheet
PHOTO = "photo"  # 3x4
MEDICAL_075U = "medical_075u"
MEDICAL_031U = "medical_031u"  # persons with disabilities
QUOTA_PROOF = "quota_proof"
DOCUMENT_KINDS = (EDUCATION_DOCUMENT, PHOTO, MEDICAL_075U, MEDICAL_031U, QUOTA_PROOF)
DOC_PENDING = "pending"
DOC_ACCEPTED = "accepted"
DOC_RETURNED = "returned"


def required_documents(quota_claims) -> list[tuple[str, str | None]]:
    """(kind, quota) pairs an application needs before it is submitted."""
    from_disability = DISABILITY in quota_claims
    needed: list[tuple[str, str | None]] = [
        (EDUCATION_DOCUMENT, None),
        (PHOTO, None),
        (MEDICAL_031U if from_disability else MEDICAL_075U, None),
    ]
    needed += [(QUOTA_PROOF, category) for category in quota_claims]
    return needed


# --- admission appeals --------------------------------------------------------------------
APPEAL_OPEN = "open"
APPEAL_GRANTED = "granted"
APPEAL_REJECTED = "rejected"

# --- student requests (the college's state services) --------------------------------------
REQ_SUBMITTED = "submitted"
REQ_IN_REVIEW = "in_review"
REQ_APPROVED = "approved"
REQ_REFUSED = "refused"
REQ_DONE = "done"
REQUEST_STATUSES = (REQ_SUBMITTED, REQ_IN_REVIEW, REQ_APPROVED, REQ_REFUSED, REQ_DONE)
REQUEST_MOVES: dict[str, tuple[str, ...]] = {
    REQ_SUBMITTED: (REQ_IN_REVIEW, REQ_REFUSED),
    REQ_IN_REVIEW: (REQ_APPROVED, REQ_REFUSED),
    REQ_APPROVED: (REQ_DONE,),
    REQ_REFUSED: (),
    REQ_DONE: (),
}
REQUEST_OPEN = (REQ_SUBMITTED, REQ_IN_REVIEW)  # the deadline runs; overdue when it passes


def request_move_allowed(current: str, to: str) -> bool:
    return to in REQUEST_MOVES.get(current, ())
