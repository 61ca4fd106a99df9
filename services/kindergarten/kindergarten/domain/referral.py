"""A referral's lifecycle (направление / жолдама, docs/domain.md). Pure, no I/O.

    offered --confirm--> confirmed --enrol--> enrolled
       |                     |
       +--decline / lapse----+--> declined | expired

An offered referral must be confirmed by the end of the 2nd business day after the offer, a
confirmed one used (the child enrolled) by the end of the 5th business day after confirming;
the time to enrol can be extended once, by up to 30 calendar days (settings give the numbers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from edu_common.kz.calendar import BusinessCalendar


class Status(StrEnum):
    OFFERED = "offered"
    CONFIRMED = "confirmed"
    ENROLLED = "enrolled"
    DECLINED = "declined"
    EXPIRED = "expired"


class Via(StrEnum):
    QUEUE = "queue"  # offered in queue order
    CLAIM = "claim"  # an open place claimed by a parent: confirmed at once


# Open referrals hold their place.
OPEN = (Status.OFFERED, Status.CONFIRMED)


@dataclass(frozen=True)
class Move:
    """A transition: the states it may start from and the one it ends in."""

    sources: tuple[Status, ...]
    target: Status


CONFIRM = Move((Status.OFFERED,), Status.CONFIRMED)
DECLINE = Move(OPEN, Status.DECLINED)
ENROL = Move((Status.CONFIRMED,), Status.ENROLLED)


def lapse_from(status: str) -> Move:
    """A lapse starts from the open state the referral was found in: one found offered and
    confirmed since has a new deadline and must not lapse."""
    if status not in OPEN:
        raise ValueError(f"an {status} referral cannot lapse")
    return Move((Status(status),), Status.EXPIRED)


# --- deadlines ----------------------------------------------------------------------------
# The field each open state must act by.
DEADLINE = {Status.OFFERED: "confirm_by", Status.CONFIRMED: "enrol_by"}
# One reminder per stage: (stage, the state it reminds of, its deadline's field).
REMINDERS = (("confirm", Status.OFFERED, "confirm_by"), ("enrol", Status.CONFIRMED, "enrol_by"))


def confirm_by(calendar: BusinessCalendar, offered_at: dt.datetime, days: int) -> dt.datetime:
    return calendar.deadline(offered_at, days)


def enrol_by(calendar: BusinessCalendar, confirmed_at: dt.datetime, days: int) -> dt.datetime:
    return calendar.deadline(confirmed_at, days)


def past_deadline(ref: dict, now: dt.datetime) -> bool:
    """Whether the deadline of the referral's current stage has passed."""
    field = DEADLINE.get(ref["status"])
    return field is not None and ref[field] < now


# --- the one extension --------------------------------------------------------------------
EXTEND_DAYS = "extend_days"  # the days asked for are out of range
NOT_CONFIRMED = "referral_state"  # only a confirmed referral can be extended
ALREADY_EXTENDED = "already_extended"


def extension_refusal(ref: dict, days: int, max_days: int) -> str | None:
    if not 1 <= days <= max_days:
        return EXTEND_DAYS
    if ref["status"] != Status.CONFIRMED:
        return NOT_CONFIRMED
    if ref.get("extended"):
        return ALREADY_EXTENDED
    return None


def extended_enrol_by(ref: dict, days: int) -> dt.datetime:
    return ref["enrol_by"] + dt.timedelta(days=days)
