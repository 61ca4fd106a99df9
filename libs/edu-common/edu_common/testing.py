"""Test support for services: access tokens signed with a throw-away key, the way identity
signs them, and a verifier that trusts that key. Never used by a running service."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edu_common.web.auth import AUDIENCE, ISSUER, KeySource, TokenVerifier


class StaticKeys(KeySource):
    def __init__(self, keys: dict):
        self.keys = keys

    def key_for(self, kid: str):
        return self.keys.get(kid)


class TokenMinter:
    """``minter.headers("acc-1", roles=["citizen"])`` gives an Authorization header."""

    def __init__(self):
        self.private = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex[:16]
        self.verifier = TokenVerifier(StaticKeys({self.kid: self.private.public_key()}))

    def token(
        self,
        account_id: str,
        *,
        roles=("citizen",),
        organization_id: str | None = None,
        ttl: int = 300,
        **claims,
    ) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": account_id,
            "roles": list(roles),
            "org": organization_id,
            "sid": uuid.uuid4().hex,
            "jti": uuid.uuid4().hex,
            "typ": "access",
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(body, self.private, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, account_id: str, **kw) -> dict:
        return {"Authorization": f"Bearer {self.token(account_id, **kw)}"}
