"""The weekly grades digest: when it runs, which grades it covers, what it says. Pure rules.

A digest closes a period at each scheduled moment (default Sunday 18:00 local time): the
period ending at moment M holds the grades recorded in (M - 7 days, M]. A grade that reaches us
after its period's digest may already have been built goes into the next period instead, so
every grade is reported once and none is lost. Periods are named by their closing moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Schedule:
    weekday: int  # 0 Monday .. 6 Sunday
    at: dt.time
    tz: dt.tzinfo

    def last_moment(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled moment at or before ``now`` (aware UTC)."""
        local = now.astimezone(self.tz)
        days_back = (local.weekday() - self.weekday) % 7
        day = local.date() - dt.timedelta(days=days_back)
        moment = dt.datetime.combine(day, self.at, tzinfo=self.tz)
        if moment > local:
            moment = dt.datetime.combine(day - WEEK, self.at, tzinfo=self.tz)
        return moment.astimezone(dt.UTC)

    def next_moment(self, now: dt.datetime) -> dt.datetime:
        """The first scheduled moment strictly after ``now``."""
        return self.last_moment(now) + WEEK

    def period_for(self, recorded_at: dt.datetime, received_at: dt.datetime) -> dt.datetime:
        """The period (its closing moment) a grade belongs to.

        Its own period, unless that one has closed by the time the grade reached us: then
        the next open one, since the closed digest may be out already.
        """
        own = self.next_moment(recorded_at - dt.timedelta(microseconds=1))
        if own <= received_at:
            return self.next_moment(received_at)
        return own


@dataclass(frozen=True)
class Grade:
    subject: str
    grade: str
    recorded_at: dt.datetime
    kind: str | None = None


@dataclass(frozen=True)
class SubjectLine:
    subject: str
    grades: tuple[str, ...]


def digest_lines(grades: Iterable[Grade]) -> list[SubjectLine]:
    """The week's grades by subject: subjects in alphabetical order, grades in time order.

    Empty when there were no grades: then no digest is sent at all.
    """
    by_subject: dict[str, list[Grade]] = {}
    for g in grades:
        by_subject.setdefault(g.subject.strip(), []).append(g)
    return [
        SubjectLine(subject, tuple(g.grade for g in sorted(items, key=lambda g: g.recorded_at)))
        for subject, items in sorted(by_subject.items(), key=lambda kv: kv[0].casefold())
    ]


def render_lines(lines: Iterable[SubjectLine]) -> str:
    """'Математика: 5, 4; Физика: 3' — compact, since every SMS segment is paid for."""
    return "; ".join(f"{line.subject}: {', '.join(line.grades)}" for line in lines)


def period_label(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """The period as a person reads it: '16.11-22.11', the seven days ending on the digest's day.

    (Grades of the evening before the first day also count; people read weeks by days.)
    """
    end = moment.astimezone(tz).date()
    start = end - dt.timedelta(days=6)
    return f"{start:%d.%m}-{end:%d.%m}"


def period_key(moment: dt.datetime) -> str:
    """A stable name for the period, used in message ids: '2026-11-22T13:00Z'."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
