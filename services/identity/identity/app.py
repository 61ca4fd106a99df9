"""identity's composition root: settings -> adapters -> use cases -> HTTP."""

from __future__ import annotations

from flask import Flask

from edu_common import deps, mongo
from edu_common.registry import registry_from_url
from edu_common.web import auth
from edu_common.web.app import service_app, service_indexes
from identity import api_internal, messages, store
from identity.adapters.eds import ReloadingEdsVerifier
from identity.api import BLUEPRINTS
from identity.deps import Deps
from identity.domain.passwords import PasswordHasher, policy_named
from identity.settings import Settings
from identity.tokens import KeyRing
from identity.usecases import sessions, staff


def build_deps(settings: Settings, **overrides) -> Deps:
    db = mongo.database(settings.mongo_url, settings.database)
    eds = None
    if settings.eds_trusted_ca_file:
        eds = ReloadingEdsVerifier(
            settings.eds_trusted_ca_file, list(settings.eds_crl_files) or None
        )
    return deps.assemble(
        Deps,
        overrides,
        settings=settings,
        db=db,
        keys=KeyRing.from_dir(settings.signing_keys_dir),
        hasher=PasswordHasher(),
        policy=policy_named(settings.password_policy),
        registry=deps.Later(lambda: registry_from_url(settings.registry_url)),
        eds=eds,
    )


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    settings = settings or Settings.from_env()
    wired = build_deps(settings, **overrides)
    messages.install()
    return service_app(
        service="identity",
        deps=wired,
        description="Personal cabinets: registration, sign-in by password, one-time code or "
        "digital signature, passwords, recovery, staff accounts and tokens.",
        blueprints=[*BLUEPRINTS, api_internal.blp],
        indexes=service_indexes(store.INDEXES, accounts_copy=False),
        setup=lambda: staff.ensure_bootstrap_admin(wired),
        # identity checks its own tokens with its own keys, and refuses ended sessions at once.
        verifier=auth.TokenVerifier(wired.keys),
        session_check=lambda p: sessions.session_active(wired, p.session_id),
    )
