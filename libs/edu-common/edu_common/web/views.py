"""What every service's views share: the deps its composition root put on the app
(``service_app``), who is asking, and idempotent POSTs.

    views: ServiceViews[Deps] = ServiceViews("kindergarten")
    deps, once, me = views.deps, views.once, views.me
"""

from __future__ import annotations

from typing import Generic, TypeVar

from flask import current_app

from edu_common.web import auth
from edu_common.web.idempotency import idempotent

D = TypeVar("D")


class ServiceViews(Generic[D]):
    def __init__(self, extension: str) -> None:
        self.extension = extension  # the key of app.extensions that holds the Deps
        # Decorator of a view, under the route decorator: a retried request gets the first answer.
        self.once = idempotent(lambda: self.deps().db)

    def deps(self) -> D:
        return current_app.extensions[self.extension]

    @staticmethod
    def me() -> auth.Principal:
        """Who is asking (401 where nobody is signed in)."""
        return auth.current_principal()

    @staticmethod
    def caller_id() -> str:
        """The signed-in account's id."""
        return auth.current_principal().account_id


__all__ = ["ServiceViews"]
