"""What every API module shares: the composition's Deps, idempotency, the caller."""

from __future__ import annotations

from flask import current_app

from edu_common.web import auth
from edu_common.web.idempotency import idempotent
from kindergarten.deps import Deps

BEARER = [{"bearer": []}]


def deps() -> Deps:
    return current_app.extensions["kindergarten"]


once = idempotent(lambda: deps().db)
me = auth.current_principal
