"""sms-notify's composition root: settings -> adapters -> deps -> HTTP. worker.py builds on the
same ``build_deps``."""

from __future__ import annotations

from flask import Flask

from edu_common import deps, mongo
from edu_common.web import auth
from edu_common.web.app import service_app, service_indexes
from sms_notify import api, store
from sms_notify.adapters.channels import Channel, FailoverChannel
from sms_notify.adapters.mobizon import MobizonChannel
from sms_notify.adapters.payments import adapter_named
from sms_notify.adapters.registry import RegistryOnFirstUse
from sms_notify.adapters.smsc import SmscChannel
from sms_notify.adapters.smtp import SmtpChannel
from sms_notify.api.common import EXTENSION
from sms_notify.deps import Deps
from sms_notify.domain.budgets import Budgets
from sms_notify.domain.limits import Limits
from sms_notify.domain.retries import Policy
from sms_notify.settings import Settings


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


def build_deps(settings: Settings, **overrides) -> Deps:
    """``overrides``: Deps fields tests replace (clock, channels, db, registry...)."""
    return deps.assemble(
        Deps,
        overrides,
        settings=settings,
        db=deps.Later(lambda: mongo.database(settings.mongo_url, settings.database)),
        channels=build_channels(settings),
        registry=deps.Later(lambda: RegistryOnFirstUse(settings.registry_url)),
        payments=adapter_named(
            settings.payment_adapter,
            base_url=settings.payment_provider_url,
            secret=settings.payment_secret,
            timeout=settings.payment_timeout,
        ),
        policy=Policy(max_attempts=settings.max_attempts),
        limits=Limits(settings.codes_per_window, settings.code_window, settings.sms_per_day),
        budgets=Budgets(
            settings.budget_per_account_day,
            settings.budget_platform_hour,
            settings.sms_countries,
            max(1, settings.budget_shards),
        ),
    )


def indexes() -> list[mongo.Index]:
    return service_indexes(store.INDEXES, publishes=False)


def create_app(
    settings: Settings | None = None, *, verifier: auth.TokenVerifier | None = None, **overrides
) -> Flask:
    """``verifier``: tests pass ``TokenMinter().verifier``; otherwise identity's JWKS.
    ``overrides``: Deps fields (clock, channels, db...)."""
    settings = settings or Settings.from_env()
    return service_app(
        service="sms-notify",
        deps=build_deps(settings, **overrides),
        description="Every SMS and e-mail the platform sends: preferences, history, dead "
        "letters, delivery reports; subscriptions, prepaid balance and teacher conversations.",
        blueprints=api.BLUEPRINTS,
        indexes=indexes(),
        verifier=verifier,
        extension=EXTENSION,
    )
