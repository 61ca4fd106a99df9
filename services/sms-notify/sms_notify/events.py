"""The events sms-notify consumes, taken from the shared contracts (edu_common.contracts) that
their publishers use too, so the two sides cannot drift. Contract schemas read tolerantly:
fields a publisher adds within a version are ignored, so adding one never parks our messages.
"""

from edu_common.contracts import applicant, identity, kindergarten
from edu_common.contracts.identity import (
    CODE_PURPOSES,
    E164,
    CodeRequested,
)
from edu_common.envelope import EventType

CODE_REQUESTED = identity.CODE_REQUESTED
PASSWORD_CHANGED = identity.PASSWORD_CHANGED
ACCOUNT_LOCKED = identity.ACCOUNT_LOCKED
CONSENT_CHANGED = identity.CONSENT_CHANGED

KG_REGISTERED = kindergarten.APPLICATION_REGISTERED
KG_QUEUE_CHANGED = kindergarten.QUEUE_NUMBER_CHANGED
KG_CATEGORY = kindergarten.CATEGORY_DECIDED
KG_CLOSED = kindergarten.APPLICATION_CLOSED
KG_OFFERED = kindergarten.REFERRAL_OFFERED
KG_REMINDER = kindergarten.REFERRAL_REMINDER
KG_CONFIRMED = kindergarten.REFERRAL_CONFIRMED
KG_EXTENDED = kindergarten.REFERRAL_EXTENDED
KG_EXPIRED = kindergarten.REFERRAL_EXPIRED
KG_DECLINED = kindergarten.REFERRAL_DECLINED
KG_ENROLLED = kindergarten.CHILD_ENROLLED
KG_LEFT = kindergarten.CHILD_LEFT
KG_ESCORT_ADDED = kindergarten.ESCORT_ADDED
KG_ESCORT_REMOVED = kindergarten.ESCORT_REMOVED
KG_ATTENDANCE = kindergarten.ATTENDANCE_MARKED

AP_SUBMITTED = applicant.SUBMITTED
AP_DOCUMENTS_RETURNED = applicant.DOCUMENTS_RETURNED
AP_ACCEPTED = applicant.ACCEPTED
AP_ALLOCATED = applicant.ALLOCATED
AP_NOT_ALLOCATED = applicant.NOT_ALLOCATED
AP_ENROLLED = applicant.ENROLLED
AP_DECLINED = applicant.DECLINED
AP_WITHDRAWN = applicant.WITHDRAWN
AP_APPEAL_DECIDED = applicant.APPEAL_DECIDED
AP_REQUEST_STATUS = applicant.REQUEST_STATUS_CHANGED
AP_REQUEST_OVERDUE = applicant.REQUEST_OVERDUE

CONSUMED = [
    CODE_REQUESTED,
    PASSWORD_CHANGED,
    ACCOUNT_LOCKED,
    CONSENT_CHANGED,
    KG_REGISTERED,
    KG_QUEUE_CHANGED,
    KG_CATEGORY,
    KG_CLOSED,
    KG_OFFERED,
    KG_REMINDER,
    KG_CONFIRMED,
    KG_EXTENDED,
    KG_EXPIRED,
    KG_DECLINED,
    KG_ENROLLED,
    KG_LEFT,
    KG_ESCORT_ADDED,
    KG_ESCORT_REMOVED,
    KG_ATTENDANCE,
    *applicant.ALL,
]
PUBLISHED: list[EventType] = []  # sms-notify tells people, not services
EXCHANGES = sorted({e.exchange for e in PUBLISHED})

__all__ = ["CODE_PURPOSES", "CONSUMED", "E164", "EXCHANGES", "PUBLISHED", "CodeRequested"]
