"""sms-notify's worker (``python -m sms_notify.worker``), built on app.py's composition: it
consumes the events that ask for messages and the school journal's, keeps the accounts copy,
delivers, releases held messages, asks providers for delivery statuses, builds the weekly grade
digests and sweeps orphaned attachments."""

from __future__ import annotations

import functools

from edu_common import accounts, worker
from edu_common.consumer import Binding, Reject
from edu_common.envelope import Envelope
from sms_notify import events, journal
from sms_notify.app import build_deps, indexes
from sms_notify.deps import Deps
from sms_notify.settings import Settings
from sms_notify.usecases import conversations, delivery, grades, homework, notifications


def notification_bindings(deps: Deps) -> list[Binding]:
    """The events that ask for messages to a person (and the consent they may withdraw).

    Every routed event shares one queue, ``sms-notify.notifications``: they go through the same
    generic handler with the same retry policy, and a queue per event kind would be some twenty
    quorum queues (each with its retry and dead-letter queue) for no gain in isolation.
    """

    def notify(envelope: Envelope, ctx) -> None:
        route = notifications.BY_TYPE.get(envelope.routing_key)
        if route is None:
            raise Reject(f"no route for {envelope.routing_key}")
        notifications.on_event(deps, route, envelope, ctx)

    return [
        Binding.on(
            "code-requested",
            [events.CODE_REQUESTED],
            functools.partial(notifications.on_code_requested, deps),
            dead_letter_ttl_seconds=24 * 3600,  # a parked code is useless after a day
        ),
        Binding.on("consent-changed", [events.CONSENT_CHANGED], notifications.on_consent_changed),
        accounts.binding(),
        # An account copy that has not arrived yet is waited for about a minute, then parked.
        Binding.on(
            "notifications",
            [route.event for route in notifications.ROUTES],
            notify,
            max_attempts=6,
            retry_base_seconds=2,
        ),
    ]


def journal_bindings(deps: Deps) -> list[Binding]:
    """The school journal's events (exchange ``journal.events``, see JOURNAL.md)."""
    return [
        Binding.on(
            "journal-homework",
            [journal.HOMEWORK_ASSIGNED],
            functools.partial(homework.on_homework_assigned, deps),
        ),
        Binding.on(
            "journal-grades",
            [journal.GRADE_RECORDED],
            functools.partial(grades.on_grade_recorded, deps),
        ),
    ]


def bindings(deps: Deps) -> list[Binding]:
    return [*notification_bindings(deps), *journal_bindings(deps)]


def periodic(deps: Deps) -> list[worker.Periodic]:
    db, channels, policy, s = deps.db, deps.channels, deps.policy, deps.settings
    return [
        worker.Periodic(
            "delivery-sweep",
            s.sweep_seconds,
            lambda: delivery.sweep(db, channels, policy=policy, clock=deps.clock),
        ),
        worker.Periodic(
            "status-poll",
            s.status_poll_seconds,
            lambda: delivery.poll_statuses(db, channels, policy=policy, clock=deps.clock),
        ),
        worker.Periodic("grades-digest", s.digest_check_seconds, lambda: grades.run_digests(deps)),
        worker.Periodic("attachment-orphans", 3600, lambda: conversations.sweep_orphans(deps)),
    ]


def main(settings: Settings | None = None, **overrides) -> None:
    settings = settings or Settings.from_env()
    deps = build_deps(settings, **overrides)
    worker.run(
        service="sms-notify",
        db=deps.db,
        amqp_url=settings.amqp_url,
        bindings=bindings(deps),
        exchanges=events.EXCHANGES,
        indexes=indexes(),
        periodic=periodic(deps),
    )


if __name__ == "__main__":
    main()
