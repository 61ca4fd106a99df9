"""The events kindergarten publishes: their contracts live in the shared library
(edu_common.contracts.kindergarten), where sms-notify and the catalogue take them from too."""

from edu_common.contracts.kindergarten import (
    ALL,
    APPLICATION_CLOSED,
    APPLICATION_REGISTERED,
    ATTENDANCE_MARKED,
    CATEGORY_DECIDED,
    CHILD_ENROLLED,
    CHILD_LEFT,
    ESCORT_ADDED,
    ESCORT_REMOVED,
    QUEUE_NUMBER_CHANGED,
    REFERRAL_CONFIRMED,
    REFERRAL_DECLINED,
    REFERRAL_EXPIRED,
    REFERRAL_EXTENDED,
    REFERRAL_OFFERED,
    REFERRAL_REMINDER,
)

EXCHANGES = sorted({e.exchange for e in ALL})

__all__ = [
    "ALL",
    "APPLICATION_CLOSED",
    "APPLICATION_REGISTERED",
    "ATTENDANCE_MARKED",
    "CATEGORY_DECIDED",
    "CHILD_ENROLLED",
    "CHILD_LEFT",
    "ESCORT_ADDED",
    "ESCORT_REMOVED",
    "EXCHANGES",
    "QUEUE_NUMBER_CHANGED",
    "REFERRAL_CONFIRMED",
    "REFERRAL_DECLINED",
    "REFERRAL_EXPIRED",
    "REFERRAL_EXTENDED",
    "REFERRAL_OFFERED",
    "REFERRAL_REMINDER",
]
