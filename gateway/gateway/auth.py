"""Access tokens verified at the gateway with identity's public keys (EdDSA).

The keys are fetched in the background (at start, on an interval, and, rate-limited, when a
token names a key id we do not have), never on the request path of a known key. The claims
checks are edu_common's TokenVerifier, so the gateway and the services agree on what a valid
token is. A verified token is remembered (by its SHA-256) until it expires, so a client that
sends the same token again costs a dict lookup instead of a signature check.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

import aiohttp
import jwt

from edu_common.web.auth import KeySource, Principal, TokenVerifier
from edu_common.web.problems import Problem

log = logging.getLogger(__name__)


class AsyncJwksKeys(KeySource):
    """identity's JWKS, cached in memory. key_for() never does I/O; refresh() does."""

    def __init__(self, url: str, *, min_refetch: float = 10.0, timeout: float = 3.0):
        self.url = url
        self.min_refetch = min_refetch
        self.timeout = timeout
        self.keys: dict[str, object] = {}
        self.fetches = 0
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self.on_change = None  # called when keys disappear (cached verdicts must go)

    def key_for(self, kid: str):
        return self.keys.get(kid)

    async def refresh(self, session: aiohttp.ClientSession, *, force: bool = False) -> bool:
        """Fetch the JWKS, at most once per `min_refetch` seconds unless forced."""
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._last_attempt < self.min_refetch:
                return False
            self._last_attempt = now
            self.fetches += 1
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout)
                async with session.get(self.url, timeout=timeout) as resp:
                    resp.raise_for_status()
                    document = await resp.json(content_type=None)
                keys = {}
                for jwk in document.get("keys", []):
                    if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and jwk.get("kid"):
                        keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="EdDSA").key
            except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKError) as exc:
                log.warning("cannot fetch JWKS from %s: %s", self.url, exc.__class__.__name__)
                return False
            removed = set(self.keys) - set(keys)
            self.keys = keys
            if removed and self.on_change is not None:
                self.on_change()
            return True


class Authenticator:
    def __init__(self, keys: AsyncJwksKeys, *, cache_size: int = 50_000, clock=time.time):
        self.keys = keys
        self.verifier = TokenVerifier(keys)
        self.cache_size = cache_size
        self.clock = clock
        self._cache: dict[bytes, tuple[Principal, float]] = {}
        keys.on_change = self._cache.clear

    async def principal(self, token: str, session: aiohttp.ClientSession) -> Principal:
        """The verified principal, or Problem(401, invalid_token | token_expired)."""
        digest = hashlib.sha256(token.encode()).digest()
        hit = self._cache.get(digest)
        if hit is not None:
            if hit[1] > self.clock():
                return hit[0]
            del self._cache[digest]
        kid = _kid(token)
        if kid is not None and self.keys.key_for(kid) is None:
            # A key we have not seen: identity may have rotated; fetch (rate-limited) once.
            await self.keys.refresh(session)
        principal = self.verifier.verify(token)
        if self.cache_size > 0:  # 0 turns the cache off (to measure what it saves)
            if len(self._cache) >= self.cache_size:
                self._evict()
            self._cache[digest] = (principal, _exp(token))
        return principal

    def _evict(self) -> None:
        now = self.clock()
        for digest in [d for d, (_, exp) in self._cache.items() if exp <= now]:
            del self._cache[digest]
        if len(self._cache) >= self.cache_size:
            self._cache.clear()


def _kid(token: str) -> str | None:
    try:
        return str(jwt.get_unverified_header(token).get("kid", ""))
    except jwt.InvalidTokenError:
        return None


def _exp(token: str) -> float:
    # Only read after verify() succeeded, so the claims are genuine and exp is present.
    return float(jwt.decode(token, options={"verify_signature": False})["exp"])


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


__all__ = ["AsyncJwksKeys", "Authenticator", "Problem", "bearer"]
