"""The short, explicit list of routes that need no token; everything else does.

Paths are the service's own (after /api/<upstream> is removed) and matched after
normalisation. `sensitive` routes (sign-in, one-time codes, registration, recovery) get the
stricter per-address rate limit on top of the general one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID = r"[^/]+"


@dataclass(frozen=True)
class Route:
    upstream: str
    method: str
    pattern: str  # '{id}' stands for one path segment
    sensitive: bool = False

    def regex(self) -> re.Pattern:
        return re.compile("^" + re.escape(self.pattern).replace(r"\{id\}", _ID) + "$")


PUBLIC_ROUTES: tuple[Route, ...] = (
    # identity: registration in five steps
    Route("identity", "POST", "/registrations", sensitive=True),
    Route("identity", "GET", "/registrations/{id}"),
    Route("identity", "POST", "/registrations/{id}/email/code", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/email/confirm", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/person", sensitive=True),
    Route("identity", "PUT", "/registrations/{id}/contacts", sensitive=True),
    Route("identity", "PUT", "/registrations/{id}/password", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/complete", sensitive=True),
    # identity: sign-in, codes, refresh
    Route("identity", "POST", "/sessions", sensitive=True),
    Route("identity", "POST", "/otp", sensitive=True),
    Route("identity", "POST", "/sessions/otp", sensitive=True),
    Route("identity", "POST", "/eds/challenges", sensitive=True),
    Route("identity", "POST", "/sessions/eds", sensitive=True),
    Route("identity", "POST", "/sessions/refresh", sensitive=True),
    # identity: password recovery, public keys
    Route("identity", "POST", "/password-resets", sensitive=True),
    Route("identity", "POST", "/password-resets/{id}/complete", sensitive=True),
    Route("identity", "GET", "/.well-known/jwks.json"),
    # catalogues
    Route("kindergarten", "GET", "/districts"),
    Route("kindergarten", "GET", "/districts/{id}"),
    Route("kindergarten", "GET", "/kindergartens"),
    Route("kindergarten", "GET", "/kindergartens/{id}"),
    Route("applicant", "GET", "/regions"),
    Route("applicant", "GET", "/colleges"),
    Route("applicant", "GET", "/colleges/{id}"),
    Route("applicant", "GET", "/campaigns"),
    Route("applicant", "GET", "/campaigns/{id}"),
    Route("applicant", "GET", "/offers"),
    Route("applicant", "GET", "/offers/{id}"),
    Route("applicant", "GET", "/offers/{id}/ranking"),  # masked IINs only
    # each service's own API description
    *(
        Route(name, "GET", "/openapi.json")
        for name in ("identity", "applicant", "kindergarten", "notify")
    ),
)


class PublicRoutes:
    def __init__(self, routes=PUBLIC_ROUTES):
        self._exact: dict[tuple[str, str, str], Route] = {}
        self._patterns: list[tuple[str, str, re.Pattern, Route]] = []
        for route in routes:
            if "{id}" in route.pattern:
                self._patterns.append((route.upstream, route.method, route.regex(), route))
            else:
                self._exact[(route.upstream, route.method, route.pattern)] = route

    def match(self, upstream: str, method: str, path: str) -> Route | None:
        """The public route for a request, or None when it needs a token. HEAD is GET."""
        method = "GET" if method == "HEAD" else method
        path = path.rstrip("/") or "/"
        route = self._exact.get((upstream, method, path))
        if route is not None:
            return route
        for name, verb, regex, candidate in self._patterns:
            if name == upstream and verb == method and regex.match(path):
                return candidate
        return None
