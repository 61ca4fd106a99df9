"""applicant's composition root: settings -> adapters -> use cases -> HTTP."""

from __future__ import annotations

from flask import Flask

from applicant import api, store
from applicant.deps import Deps
from applicant.settings import Settings
from edu_common import deps, mongo
from edu_common.files import FileStore
from edu_common.registry import registry_from_url
from edu_common.web.app import service_app, service_indexes
from edu_common.web.auth import TokenVerifier


def build_deps(settings: Settings, **overrides) -> Deps:
    db = (
        overrides["db"]
        if "db" in overrides
        else mongo.database(settings.mongo_url, settings.database)
    )
    return deps.assemble(
        Deps,
        overrides,
        settings=settings,
        db=db,
        files=FileStore(db, store.FILES_BUCKET),
        registry=deps.Later(lambda: registry_from_url(settings.registry_url)),
    )


def indexes() -> list:
    return service_indexes(store.INDEXES)


def create_app(
    settings: Settings | None = None, verifier: TokenVerifier | None = None, **overrides
) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        service="applicant",
        deps=build_deps(settings, **overrides),
        description="Colleges and their specialties, admission campaigns with quotas and "
        "automatic allocation, applications, and the students' state services.",
        blueprints=api.BLUEPRINTS,
        indexes=indexes(),
        verifier=verifier,
    )
