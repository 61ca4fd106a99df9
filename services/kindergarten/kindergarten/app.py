"""kindergarten's composition root: settings -> adapters -> use cases -> HTTP."""

from __future__ import annotations

from flask import Flask

from edu_common import deps, mongo
from edu_common.registry import registry_from_url
from edu_common.web.app import service_app, service_indexes
from edu_common.web.auth import TokenVerifier
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
    return deps.assemble(
        Deps,
        overrides,
        settings=settings,
        db=deps.Later(lambda: mongo.database(settings.mongo_url, settings.database)),
        registry=deps.Later(lambda: registry_from_url(settings.registry_url)),
    )


def indexes() -> list:
    return service_indexes(store.INDEXES)


def create_app(
    settings: Settings | None = None, verifier: TokenVerifier | None = None, **overrides
) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        service="kindergarten",
        deps=build_deps(settings, **overrides),
        description="The kindergarten queue, places, referrals, escorts and attendance.",
        blueprints=BLUEPRINTS,
        indexes=indexes(),
        verifier=verifier,
    )
