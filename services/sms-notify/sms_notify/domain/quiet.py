"""Quiet hours: when a non-urgent message waits until morning. Pure.

A person's quiet hours count in their own time zone, or (stored without one) in the service's
``TIMEZONE``, which the caller passes in: no zone is fixed here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

DEFAULT_START = dt.time(22, 0)
DEFAULT_END = dt.time(8, 0)


@dataclass(frozen=True)
class QuietHours:
    time_zone: str
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END

    @classmethod
    def from_doc(cls, doc: dict | None, time_zone: str) -> QuietHours | None:
        """From stored preferences: None when the person turned quiet hours off; the default
        window in ``time_zone`` when they never set any."""
        if doc is None:
            return cls(time_zone)
        if doc.get("enabled") is False:
            return None
        return cls(
            doc.get("time_zone") or time_zone,
            start=parse_time(doc.get("start")) or DEFAULT_START,
            end=parse_time(doc.get("end")) or DEFAULT_END,
        )


def parse_time(value: str | None) -> dt.time | None:
    if not value:
        return None
    return dt.time.fromisoformat(value)


def release_at(now: dt.datetime, quiet: QuietHours | None) -> dt.datetime | None:
    """When a message asked for at `now` may go: None if now is outside the quiet hours.

    The window may wrap midnight (22:00-08:00) or not (13:00-15:00); start == end means none.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    tz = zoneinfo.ZoneInfo(quiet.time_zone)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= t < quiet.end
        end_day = local.date()
    else:
        inside = t >= quiet.start or t < quiet.end
        end_day = local.date() + dt.timedelta(days=1) if t >= quiet.start else local.date()
    if not inside:
        return None
    end = dt.datetime.combine(end_day, quiet.end, tzinfo=tz)
    return end.astimezone(dt.UTC)
