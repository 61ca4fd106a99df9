"""S2's worker side: the journal's events, the weekly digest task; worker.py adds these.

``subscriptions(deps)`` consumes ``journal.grade.recorded.v1`` and
``journal.homework.assigned.v1`` (exchange ``journal.events``, see JOURNAL.md);
``periodic(deps)`` builds the weekly grade digests when they are due; ``INDEXES`` are the
collections' indexes of subscriptions, the balance and conversations.
"""

from __future__ import annotations

import functools

from edu_common.consumer import Subscription
from edu_common.worker import Periodic
from sms_notify import balance, conversations, journal
from sms_notify import subscriptions as subs
from sms_notify.settings_s2 import S2Deps

INDEXES = [*subs.INDEXES, *balance.INDEXES, *conversations.INDEXES]


def _s2(deps) -> S2Deps:
    return deps if isinstance(deps, S2Deps) else S2Deps(deps)


def subscriptions(deps) -> list[Subscription]:
    s2 = _s2(deps)
    return [
        Subscription.on(
            "journal-homework",
            [journal.HOMEWORK_ASSIGNED],
            functools.partial(subs.on_homework_assigned, s2),
        ),
        Subscription.on(
            "journal-grades",
            [journal.GRADE_RECORDED],
            functools.partial(subs.on_grade_recorded, s2),
        ),
    ]


def periodic(deps) -> list[Periodic]:
    s2 = _s2(deps)
    return [
        Periodic("grades-digest", s2.settings.digest_check_seconds, lambda: subs.run_digests(s2)),
        Periodic("attachment-orphans", 3600, lambda: conversations.sweep_orphans(s2)),
    ]
