"""applicant's composition root: settings -> adapters -> use cases -> HTTP."""

from __future__ import annotations

from flask import Flask

from applicant import api, store
from applicant.deps import Deps
from applicant.settings import Settings
from edu_common import accounts, bus, consumer, mongo, outbox
from edu_common.files import FileStore
from edu_common.registry import registry_from_url
from edu_common.web import auth, idempotency
from edu_common.web.app import create_service_app
from edu_common.web.auth import JwksKeySource, TokenVerifier


def build_deps(settings: Settings, **overrides) -> Deps:
    db = mongo.database(settings.mongo_url, settings.database)
    parts = dict(settings=settings, db=db, files=FileStore(db, store.FILES_BUCKET))
    if "registry" not in overrides:
        parts["registry"] = registry_from_url(settings.registry_url)
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
        service="applicant",
        title="applicant",
        description="Colleges and their specialties, admission campaigns with quotas and "
        "automatic allocation, applications, and the students' state services.",
        blueprints=api.BLUEPRINTS,
        readiness={"database": lambda: mongo.ping(deps.db)},
        reported={"broker": lambda: bus.broker_answers(settings.amqp_url)},
    )
    app.extensions["applicant"] = deps
    # ``verifier``: tests pass ``TokenMinter().verifier``; otherwise identity's published keys.
    auth.configure(verifier or TokenVerifier(JwksKeySource(settings.jwks_url)))
    return app
