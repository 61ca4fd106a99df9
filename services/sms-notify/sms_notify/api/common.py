"""What the views share: the deps the composition root put on the app, who is asking, and
idempotent POSTs."""

from __future__ import annotations

from flask import current_app

from edu_common.web import auth
from edu_common.web.idempotency import idempotent
from sms_notify.deps import Deps

EXTENSION = "sms-notify"  # app.extensions[EXTENSION]: the Deps, set by app.create_app
ADMIN = "admin"


def deps() -> Deps:
    return current_app.extensions[EXTENSION]


def caller_id() -> str:
    """The signed-in account's id."""
    return auth.current_principal().account_id


once = idempotent(lambda: deps().db)
