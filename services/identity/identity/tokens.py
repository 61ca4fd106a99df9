"""Signing keys, access tokens (short-lived JWT, EdDSA) and refresh tokens (opaque, rotating).

Keys are Ed25519 PEM files in JWT_SIGNING_KEYS_DIR; the newest signs, all are published in the
JWKS. Rotation: add a new key file, keep the old one until the tokens it signed have expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from edu_common.web.auth import AUDIENCE, ISSUER, KeySource


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    def jwk(self) -> dict:
        public = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "EdDSA"}


def generate_key_file(directory: str | Path) -> Path:
    """Write a new Ed25519 key named by date, so the newest sorts last."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}.pem"
    path = directory / name
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


class KeyRing(KeySource):
    def __init__(self, keys: list[SigningKey]):
        if not keys:
            raise ValueError("no signing keys")
        self.keys = keys
        self._by_kid = {k.kid: k for k in keys}

    @classmethod
    def from_dir(cls, directory: str | Path) -> KeyRing:
        keys = []
        for path in sorted(Path(directory).glob("*.pem")):
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise ValueError(f"{path.name}: signing keys must be Ed25519")
            keys.append(SigningKey(path.stem, private))
        if not keys:
            raise ValueError(f"no *.pem signing keys in {directory}")
        return cls(keys)

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def key_for(self, kid: str):
        found = self._by_kid.get(kid)
        return found.private.public_key() if found else None

    def jwks(self) -> dict:
        return {"keys": [k.jwk() for k in self.keys]}


def issue_access_token(
    ring: KeyRing,
    *,
    account_id: str,
    roles: list[str],
    organization_id: str | None,
    session_id: str,
    ttl: dt.timedelta,
    password_change_required: bool,
    now: dt.datetime,
) -> str:
    key = ring.current
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": account_id,
        "roles": roles,
        "org": organization_id,
        "sid": session_id,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if password_change_required:
        claims["pwd_change"] = True
    return jwt.encode(claims, key.private, algorithm="EdDSA", headers={"kid": key.kid})


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_refresh_token(token: str) -> tuple[str, str] | None:
    session_id, sep, secret = token.partition(".")
    if not sep or not session_id or not secret or len(token) > 200:
        return None
    return session_id, secret
