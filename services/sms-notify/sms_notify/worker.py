"""sms-notify's worker (``python -m sms_notify.worker``): consumes the events that ask for
messages, delivers them, and sweeps up what a first attempt left behind."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from edu_common import mongo, worker
from edu_common.consumer import Subscription
from sms_notify import delivery, events, handlers, store
from sms_notify.channels import Channel
from sms_notify.channels.email import SmtpChannel
from sms_notify.channels.smsc import SmscChannel
from sms_notify.settings import Settings

SWEEP_EVERY_SECONDS = 5


def build_channels(settings: Settings) -> dict[str, Channel]:
    return {
        "email": SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_tls,
        ),
        "sms": SmscChannel(
            settings.smsc_url,
            settings.smsc_login,
            settings.smsc_password,
            sender=settings.smsc_sender,
        ),
    }


def subscriptions(
    channels: Mapping[str, Channel], policy: delivery.Policy = delivery.DEFAULT_POLICY
) -> list[Subscription]:
    return [
        Subscription.on(
            "code-requested",
            [events.CODE_REQUESTED],
            functools.partial(handlers.on_code_requested, channels=channels, policy=policy),
            dead_letter_ttl_seconds=24 * 3600,  # a parked code is useless after a day
        )
    ]


def main() -> None:
    settings = Settings.from_env()
    db = mongo.database(settings.mongo_url, settings.database)
    channels = build_channels(settings)
    worker.run(
        service="sms-notify",
        db=db,
        amqp_url=settings.amqp_url,
        subscriptions=subscriptions(channels),
        exchanges=events.EXCHANGES,
        indexes=store.INDEXES,
        periodic=[
            worker.Periodic(
                "delivery-sweep", SWEEP_EVERY_SECONDS, lambda: delivery.sweep(db, channels)
            )
        ],
    )


if __name__ == "__main__":
    main()
