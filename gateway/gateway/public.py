"""The short, explicit list of routes that need no token; everything else does.

Paths are the service's own (after /api/<upstream> is removed) and matched after
normalisation. `sensitive` routes (sign-in, one-time codes, registration, recovery) get two
more limits on top of the general one: a high ceiling per client address (many people share
one address), and a strict one per *target*: what the request is about, the path's `{id}` (a
registration, a password reset) or the first of `target` in the JSON body (the IIN signing in,
the e-mail registering, the challenge answered). A request whose target cannot be read only
meets the address ceiling (and identity's own limits).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

_ID = r"[^/]+"
_MAX_TARGET = 256


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    return re.compile("^" + re.escape(pattern).replace(r"\{id\}", f"({_ID})") + "$")


@dataclass(frozen=True)
class Route:
    upstream: str
    method: str
    pattern: str  # '{id}' stands for one path segment
    sensitive: bool = False
    target: tuple[str, ...] = ()  # body fields naming the target, when the path has no {id}

    def regex(self) -> re.Pattern:
        return _compile(self.pattern)

    def target_of(self, path: str, body: bytes) -> str | None:
        """What this request is about, for the per-target limit; None when it cannot be told."""
        if "{id}" in self.pattern:
            found = self.regex().match(path.rstrip("/") or "/")
            return found.group(1) if found else None
        if not self.target or not body:
            return None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        for name in self.target:
            value = data.get(name)
            if isinstance(value, str) and 0 < len(value.strip()) <= _MAX_TARGET:
                return f"{name}:{value.strip().lower()}"
        return None


PUBLIC_ROUTES: tuple[Route, ...] = (
    # identity: registration in five steps (the IIN and the phone each proven by a code)
    Route("identity", "POST", "/registrations", sensitive=True, target=("email",)),
    Route("identity", "GET", "/registrations/{id}"),
    Route("identity", "POST", "/registrations/{id}/email/code", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/email/confirm", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/person", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/person/code", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/person/eds-challenge", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/person/confirm", sensitive=True),
    Route("identity", "PUT", "/registrations/{id}/contacts", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/contacts/code", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/contacts/confirm", sensitive=True),
    Route("identity", "PUT", "/registrations/{id}/password", sensitive=True),
    Route("identity", "POST", "/registrations/{id}/complete", sensitive=True),
    # identity: sign-in, codes, refresh
    Route("identity", "POST", "/sessions", sensitive=True, target=("iin",)),
    Route("identity", "POST", "/otp", sensitive=True, target=("iin", "phone")),
    Route("identity", "POST", "/sessions/otp", sensitive=True, target=("challenge_id",)),
    Route("identity", "POST", "/eds/challenges", sensitive=True),  # no target: a fresh nonce
    Route("identity", "POST", "/sessions/eds", sensitive=True, target=("challenge_id",)),
    Route("identity", "POST", "/sessions/refresh", sensitive=True, target=("refresh_token",)),
    # identity: password recovery, public keys
    Route("identity", "POST", "/password-resets", sensitive=True, target=("iin", "email")),
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
    # providers calling back: no token, their HMAC signature over the body is the proof
    Route("notify", "POST", "/providers/payments/callback"),
    Route("notify", "POST", "/providers/{id}/delivery-reports"),
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
