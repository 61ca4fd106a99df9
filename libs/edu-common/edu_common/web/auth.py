"""Who is asking: access tokens (JWT, EdDSA) verified against identity's keys, and role checks."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import jwt
import requests
from flask import g, request

from edu_common.web.problems import Problem

log = logging.getLogger(__name__)

ALGORITHMS = ["EdDSA"]  # pinned: never "none", never an HMAC key confused with a public one
ISSUER = "edu-identity"
AUDIENCE = "edu-platform"


@dataclass(frozen=True)
class Principal:
    account_id: str
    roles: frozenset[str]
    organization_id: str | None
    session_id: str | None
    token_id: str
    password_change_required: bool = False

    def has_any(self, roles) -> bool:
        return bool(self.roles & set(roles))


class KeySource:
    def key_for(self, kid: str):
        raise NotImplementedError


class JwksKeySource(KeySource):
    """Keys fetched from a JWKS URL, cached; refetched only when an unknown key id shows up."""

    def __init__(self, url: str, *, min_refresh_interval: float = 30.0, timeout: float = 3.0):
        self.url = url
        self.min_refresh_interval = min_refresh_interval
        self.timeout = timeout
        self._keys: dict[str, object] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        resp = requests.get(self.url, timeout=self.timeout)
        resp.raise_for_status()
        keys = {}
        for jwk in resp.json().get("keys", []):
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="EdDSA").key
        self._keys = keys
        self._fetched_at = time.monotonic()

    def key_for(self, kid: str):
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None and time.monotonic() - self._fetched_at >= self.min_refresh_interval:
                try:
                    self._refresh()
                except (requests.RequestException, ValueError) as exc:
                    log.warning("cannot fetch JWKS: %s", exc)
                key = self._keys.get(kid)
        return key


class TokenVerifier:
    def __init__(self, keys: KeySource, *, issuer: str = ISSUER, audience: str = AUDIENCE):
        self.keys = keys
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Problem(401, "invalid_token", "The access token is malformed.") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Problem(401, "invalid_token", "The token's algorithm is not accepted.")
        key = self.keys.key_for(str(header.get("kid", "")))
        if key is None:
            raise Problem(401, "invalid_token", "The token was signed by an unknown key.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "jti"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Problem(401, "token_expired", "The access token has expired.") from exc
        except jwt.InvalidTokenError as exc:
            raise Problem(401, "invalid_token", "The access token is not valid.") from exc
        if claims.get("typ") != "access":
            raise Problem(401, "invalid_token", "Not an access token.")
        return Principal(
            account_id=str(claims["sub"]),
            roles=frozenset(claims.get("roles") or ()),
            organization_id=claims.get("org"),
            session_id=claims.get("sid"),
            token_id=str(claims["jti"]),
            password_change_required=bool(claims.get("pwd_change", False)),
        )


_verifier: TokenVerifier | None = None
_session_check: Callable[[Principal], bool] | None = None


def configure(verifier: TokenVerifier, session_check: Callable[[Principal], bool] | None = None):
    """Set the verifier once per process; session_check lets identity refuse ended sessions."""
    global _verifier, _session_check
    _verifier = verifier
    _session_check = session_check


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        token = bearer_token()
        if token is None:
            raise Problem(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
        if _verifier is None:
            raise RuntimeError("auth.configure() was not called")
        principal = _verifier.verify(token)
        if _session_check is not None and not _session_check(principal):
            raise Problem(401, "session_ended", "This session has ended. Sign in again.")
        g.principal = principal
    return principal


def require(*roles: str, allow_password_change: bool = False):
    """Decorator: a valid access token, and one of `roles` when any are named."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            principal = current_principal()
            if principal.password_change_required and not allow_password_change:
                raise Problem(403, "password_change_required", "Change your password first.")
            if roles and not principal.has_any(roles):
                raise Problem(403, "forbidden")
            return fn(*args, **kwargs)

        return inner

    return wrap
