"""sms-notify's composition root for HTTP: settings -> deps -> blueprints."""

from __future__ import annotations

from flask import Flask

from edu_common import accounts, bus, consumer, mongo
from edu_common.web import auth, idempotency
from edu_common.web.app import create_service_app
from sms_notify import api, api_school, store, subscriptions_worker
from sms_notify.settings import Settings
from sms_notify.usecases import outgoing
from sms_notify.worker import build_deps, limits_of


def create_app(
    settings: Settings | None = None, *, verifier: auth.TokenVerifier | None = None, **overrides
) -> Flask:
    """``verifier``: tests pass ``TokenMinter().verifier``; otherwise identity's JWKS.
    ``overrides``: Deps fields (clock, channels, db...)."""
    settings = settings or Settings.from_env()
    deps = build_deps(settings, **overrides)
    outgoing.configure(limits_of(settings))
    mongo.ensure_indexes(
        deps.db,
        [
            *store.INDEXES,
            *accounts.INDEXES,
            *consumer.INDEXES,
            *idempotency.INDEXES,
            *subscriptions_worker.INDEXES,
        ],
    )
    app, _api = create_service_app(
        service="sms-notify",
        title="sms-notify",
        description="Every SMS and e-mail the platform sends: preferences, history, dead "
        "letters, delivery reports; subscriptions, prepaid balance and teacher conversations.",
        blueprints=[*api.BLUEPRINTS, *api_school.BLUEPRINTS],
        readiness={"database": lambda: mongo.ping(deps.db)},
        reported={"broker": lambda: bus.broker_answers(settings.amqp_url)},
    )
    app.extensions["sms-notify"] = deps
    auth.configure(verifier or auth.TokenVerifier(auth.JwksKeySource(settings.jwks_url)))
    return app
