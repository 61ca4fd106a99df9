"""sms-notify's worker (``python -m sms_notify.worker``): consumes the events that ask for
messages, delivers them, releases held ones, asks providers for delivery statuses, keeps the
accounts copy, and runs the subscriptions and periodic tasks of ``subscriptions_worker``."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from edu_common import accounts, mongo, worker
from edu_common.consumer import Reject, Subscription
from sms_notify import events, store, subscriptions_worker
from sms_notify.adapters.channels import Channel, FailoverChannel
from sms_notify.adapters.mobizon import MobizonChannel
from sms_notify.adapters.smsc import SmscChannel
from sms_notify.adapters.smtp import SmtpChannel
from sms_notify.deps import Deps
from sms_notify.domain.limits import Limits
from sms_notify.settings import Settings
from sms_notify.usecases import delivery, notifications, outgoing


def sms_providers(settings: Settings) -> dict[str, Channel]:
    return {
        "smsc": SmscChannel(
            settings.smsc_url,
            settings.smsc_login,
            settings.smsc_password,
            sender=settings.smsc_sender,
        ),
        "mobizon": MobizonChannel(settings.mobizon_url, settings.mobizon_api_key),
    }


def build_channels(settings: Settings) -> dict[str, Channel]:
    known = sms_providers(settings)
    unknown = [p for p in settings.sms_providers if p not in known]
    if unknown or not settings.sms_providers:
        raise ValueError(f"SMS_PROVIDERS: unknown {unknown}; known {sorted(known)}")
    return {
        "email": SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_tls,
        ),
        "sms": FailoverChannel([known[p] for p in settings.sms_providers]),
    }


def policy_of(settings: Settings) -> delivery.Policy:
    return delivery.Policy(max_attempts=settings.max_attempts)


def limits_of(settings: Settings) -> Limits:
    return Limits(settings.codes_per_window, settings.code_window, settings.sms_per_day)


def subscriptions(
    channels: Mapping[str, Channel], policy: delivery.Policy = delivery.DEFAULT_POLICY
) -> list[Subscription]:
    """The notification subscriptions; ``main`` adds those of ``subscriptions_worker``.

    Every routed event shares one queue, ``sms-notify.notifications``: they go through the same
    generic handler with the same retry policy, and a queue per event kind would be some twenty
    quorum queues (each with its retry and dead-letter queue) for no gain in isolation.
    """

    def notify(envelope, ctx):
        route = notifications.BY_TYPE.get(envelope.routing_key)
        if route is None:
            raise Reject(f"no route for {envelope.routing_key}")
        notifications.on_event(route, envelope, ctx, channels=channels, policy=policy)

    return [
        Subscription.on(
            "code-requested",
            [events.CODE_REQUESTED],
            functools.partial(notifications.on_code_requested, channels=channels, policy=policy),
            dead_letter_ttl_seconds=24 * 3600,  # a parked code is useless after a day
        ),
        Subscription.on(
            "consent-changed", [events.CONSENT_CHANGED], notifications.on_consent_changed
        ),
        accounts.subscription(),
        # An account copy that has not arrived yet is waited for about a minute, then parked.
        Subscription.on(
            "notifications",
            [route.event for route in notifications.ROUTES],
            notify,
            max_attempts=6,
            retry_base_seconds=2,
        ),
    ]


def periodic(deps: Deps) -> list[worker.Periodic]:
    db, channels, policy = deps.db, deps.channels, deps.policy
    return [
        worker.Periodic(
            "delivery-sweep",
            deps.settings.sweep_seconds,
            lambda: delivery.sweep(db, channels, policy=policy, clock=deps.clock),
        ),
        worker.Periodic(
            "status-poll",
            deps.settings.status_poll_seconds,
            lambda: delivery.poll_statuses(db, channels, policy=policy, clock=deps.clock),
        ),
    ]


def build_deps(settings: Settings, **overrides) -> Deps:
    parts = dict(
        settings=settings,
        db=mongo.database(settings.mongo_url, settings.database),
        channels=build_channels(settings),
        policy=policy_of(settings),
    )
    parts.update(overrides)
    outgoing.configure(limits_of(settings))
    return Deps(**parts)


def main() -> None:
    settings = Settings.from_env()
    deps = build_deps(settings)
    worker.run(
        service="sms-notify",
        db=deps.db,
        amqp_url=settings.amqp_url,
        subscriptions=[
            *subscriptions(deps.channels, deps.policy),
            *subscriptions_worker.subscriptions(deps),
        ],
        exchanges=events.EXCHANGES,
        indexes=[*store.INDEXES, *accounts.INDEXES, *subscriptions_worker.INDEXES],
        periodic=[*periodic(deps), *subscriptions_worker.periodic(deps)],
    )


if __name__ == "__main__":
    main()
