"""The worker side of subscriptions: the journal's events, the weekly digest, the attachment
sweep; worker.py adds these.

``subscriptions(deps)`` consumes ``journal.grade.recorded.v1`` and
``journal.homework.assigned.v1`` (exchange ``journal.events``, see JOURNAL.md);
``periodic(deps)`` builds the weekly grade digests when they are due; ``INDEXES`` are the
collections' indexes of subscriptions, the balance and conversations.
"""

from __future__ import annotations

import functools

from edu_common.consumer import Subscription
from edu_common.worker import Periodic
from sms_notify import journal
from sms_notify.settings_school import SchoolDeps
from sms_notify.usecases import balance, conversations
from sms_notify.usecases import subscriptions as subs

INDEXES = [*subs.INDEXES, *balance.INDEXES, *conversations.INDEXES]


def _school(deps) -> SchoolDeps:
    return deps if isinstance(deps, SchoolDeps) else SchoolDeps(deps)


def subscriptions(deps) -> list[Subscription]:
    school = _school(deps)
    return [
        Subscription.on(
            "journal-homework",
            [journal.HOMEWORK_ASSIGNED],
            functools.partial(subs.on_homework_assigned, school),
        ),
        Subscription.on(
            "journal-grades",
            [journal.GRADE_RECORDED],
            functools.partial(subs.on_grade_recorded, school),
        ),
    ]


def periodic(deps) -> list[Periodic]:
    school = _school(deps)
    return [
        Periodic(
            "grades-digest", school.settings.digest_check_seconds, lambda: subs.run_digests(school)
        ),
        Periodic("attachment-orphans", 3600, lambda: conversations.sweep_orphans(school)),
    ]
