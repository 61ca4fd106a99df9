"""An application's lifecycle in the queue (docs/domain.md). Pure, no I/O.

queued -> offered (a referral holds a place) -> queued again if the referral lapses, or closed
(withdrawn, declined, enrolled, aged out). An application is *active* (it counts in its queue)
while queued or offered. A requested category other than general waits for a district
operator's decision: pending -> confirmed | rejected.
"""

from __future__ import annotations

from enum import StrEnum

from kindergarten.domain.cycle import GENERAL


class Status(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    CLOSED = "closed"


class CloseReason(StrEnum):
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    ENROLLED = "enrolled"
    AGED_OUT = "aged_out"


class CategoryStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


DECISIONS = (CategoryStatus.CONFIRMED, CategoryStatus.REJECTED)


def initial_category_status(category: str) -> CategoryStatus | None:
    """General needs no decision; any other category waits for one."""
    return None if category == GENERAL else CategoryStatus.PENDING


def queue_category(requested: str, status: str | None) -> str:
    """A category waits as general until a district operator confirms it."""
    return requested if status == CategoryStatus.CONFIRMED else GENERAL
