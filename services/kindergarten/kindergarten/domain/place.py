"""A place's lifecycle and who may take it. Pure, no I/O
(docs/decisions/0011-kindergarten-allocation.md).

A published place is vacant and offered at once in queue order (offered: a referral holds it);
given back it is vacant again; enrolment makes it taken. A vacant place nobody eligible took
within its queue days is open: any queued child of its district and birth year may claim it.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from kindergarten.domain.application import Status as ApplicationStatus


class Status(StrEnum):
    VACANT = "vacant"
    OFFERED = "offered"
    TAKEN = "taken"


# Places that count against the group's capacity before anyone is enrolled on them.
HELD = (Status.VACANT, Status.OFFERED)

# Why an application may not take a place (machine codes).
NOT_WAITING = "application_not_waiting"
NOT_FOR_CHILD = "place_not_for_child"
ON_STOP_LIST = "on_stop_list"


def open_at(published_at: dt.datetime, offer_in_queue_days: int) -> dt.datetime:
    """When a place nobody in the queue took becomes open to claims."""
    return published_at + dt.timedelta(days=offer_in_queue_days)


def is_open(place: dict, now: dt.datetime) -> bool:
    return place["status"] == Status.VACANT and place["open_at"] <= now


def on_stop_list(app: dict, now: dt.datetime) -> bool:
    return bool(app.get("stop_until")) and app["stop_until"] > now


def refusal(app: dict, place: dict, now: dt.datetime) -> str | None:
    """Why the application may not take the place, or None when it may: the one rule behind
    claims and offers in queue order alike (offers also wait for the minimum age)."""
    if app["status"] != ApplicationStatus.QUEUED:
        return NOT_WAITING
    if app["district_id"] != place["district_id"] or app["birth_year"] != place["birth_year"]:
        return NOT_FOR_CHILD
    if on_stop_list(app, now):
        return ON_STOP_LIST
    return None
