"""kindergarten's composition root: settings -> adapters -> use cases -> HTTP."""

from __future__ import annotations

from flask import Flask

from edu_common import accounts, bus, consumer, mongo, outbox
from edu_common.registry import registry_from_url
from edu_common.web import auth, idempotency
from edu_common.web.app import create_service_app
from edu_common.web.auth import JwksKeySource, TokenVerifier
from kindergarten import store
from kindergarten.api import (
    applications,
    catalogue,
    children,
    corrections,
    door,
    places,
    referrals,
)
from kindergarten.deps import Deps
from kindergarten.settings import Settings

# In this order in the OpenAPI document.
BLUEPRINTS = [
    catalogue.blp,
    applications.blp,
    places.blp,
    referrals.blp,
    children.blp,
    door.blp,
    corrections.blp,
]


def build_deps(settings: Settings, **overrides) -> Deps:
    parts = dict(
        settings=settings,
        db=mongo.database(settings.mongo_url, settings.database),
        registry=registry_from_url(settings.registry_url),
    )
    parts.update(overrides)
    return Deps(**parts)


def indexes() -> list:
    return [
        *store.INDEXES,
        *accounts.INDEXES,
        *outbox.INDEXES,
        *consumer.INDEXES,
        *idempotency.INDEXES,
    ]


def create_app(
    settings: Settings | None = None, verifier: TokenVerifier | None = None, **overrides
) -> Flask:
    settings = settings or Settings.from_env()
    deps = build_deps(settings, **overrides)
    mongo.ensure_indexes(deps.db, indexes())
    app, _api = create_service_app(
        service="kindergarten",
        title="kindergarten",
        description="The kindergarten queue, places, referrals, escorts and attendance.",
        blueprints=BLUEPRINTS,
        readiness={"database": lambda: mongo.ping(deps.db)},
        reported={"broker": lambda: bus.broker_answers(settings.amqp_url)},
    )
    app.extensions["kindergarten"] = deps
    # ``verifier``: tests pass ``TokenMinter().verifier``; otherwise identity's published keys.
    auth.configure(verifier or TokenVerifier(JwksKeySource(settings.jwks_url)))
    return app
