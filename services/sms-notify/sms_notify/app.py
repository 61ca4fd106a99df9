"""sms-notify's composition root for HTTP: probes, metrics and the OpenAPI document for now."""

from __future__ import annotations

from flask import Flask

from edu_common import bus, mongo
from edu_common.web.app import create_service_app
from sms_notify import store
from sms_notify.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    db = mongo.database(settings.mongo_url, settings.database)
    mongo.ensure_indexes(db, store.INDEXES)
    app, _api = create_service_app(
        service="sms-notify",
        title="sms-notify",
        description="Every SMS and e-mail the platform sends: one-time codes now; "
        "subscriptions, balances and preferences to come.",
        readiness={
            "database": lambda: mongo.ping(db),
            "broker": lambda: bus.broker_answers(settings.amqp_url),
        },
    )
    app.extensions["sms-notify"] = {"settings": settings, "db": db}
    return app
