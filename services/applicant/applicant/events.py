"""The events applicant publishes: their contracts live in the shared library
(edu_common.contracts.applicant), where sms-notify and the catalogue take them from too."""

from edu_common.contracts.applicant import (
    ACCEPTED,
    ALL,
    ALLOCATED,
    APPEAL_DECIDED,
    DECLINED,
    DOCUMENTS_RETURNED,
    ENROLLED,
    NOT_ALLOCATED,
    REQUEST_OVERDUE,
    REQUEST_STATUS_CHANGED,
    SUBMITTED,
    WITHDRAWN,
)

EXCHANGES = sorted({e.exchange for e in ALL})

__all__ = [
    "ACCEPTED",
    "ALL",
    "ALLOCATED",
    "APPEAL_DECIDED",
    "DECLINED",
    "DOCUMENTS_RETURNED",
    "ENROLLED",
    "EXCHANGES",
    "NOT_ALLOCATED",
    "REQUEST_OVERDUE",
    "REQUEST_STATUS_CHANGED",
    "SUBMITTED",
    "WITHDRAWN",
]
