"""Tokens checked at the gateway: expired, wrong key, wrong algorithm, tampered; public routes."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_support import assert_problem, session


@pytest.fixture(scope="module")
def gw(start_stub, start_gateway):
    ident = start_stub("identity")
    gateway = start_gateway(
        {"identity": [ident], "kindergarten": [start_stub("kindergarten")]},
        ident,
        GATEWAY_JWKS_MIN_REFETCH_SECONDS="0.5",
    )
    gateway.identity = ident
    return gateway


def get_me(gw, token=None, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return session.get(f"{gw.url}/api/identity/me", headers=headers)


def test_valid_token_passes(gw, keys):
    assert get_me(gw, keys.token()).status_code == 200


def test_missing_token_is_401(gw):
    r = get_me(gw)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert_problem(get_me(gw, Authorization="Basic dXNlcjpwYXNz"), 401, "unauthorized")


def test_expired_token(gw, keys):
    r = get_me(gw, keys.token(ttl=-60))
    assert_problem(r, 401, "token_expired")
    assert 'error="token_expired"' in r.headers["WWW-Authenticate"]


def test_wrong_key(gw, keys):
    assert_problem(get_me(gw, keys.token(key=Ed25519PrivateKey.generate())), 401, "invalid_token")


def test_wrong_audience_issuer_and_type(gw, keys):
    assert_problem(get_me(gw, keys.token(aud="elsewhere")), 401, "invalid_token")
    assert_problem(get_me(gw, keys.token(iss="someone")), 401, "invalid_token")
    assert_problem(get_me(gw, keys.token(typ="refresh")), 401, "invalid_token")


def test_alg_none_and_hs_rs_confusion(gw, keys):
    payload = jwt.decode(keys.token(), options={"verify_signature": False})
    unsigned = jwt.encode(payload, None, algorithm="none", headers={"kid": "k1"})
    assert_problem(get_me(gw, unsigned), 401, "invalid_token")
    # HS256 keyed with the public key's bytes: the classic confusion attack.
    public = (
        keys.private["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode()
    ).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signing_input = header + b"." + body
    sig = base64.urlsafe_b64encode(hmac.new(public, signing_input, hashlib.sha256).digest())
    forged = (signing_input + b"." + sig.rstrip(b"=")).decode()
    assert_problem(get_me(gw, forged), 401, "invalid_token")


def test_tampered_payload(gw, keys):
    token = keys.token()
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["roles"] = ["admin"]
    evil = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert_problem(get_me(gw, f"{head}.{evil}.{sig}"), 401, "invalid_token")
    assert_problem(get_me(gw, "not-a-jwt"), 401, "invalid_token")


def test_titles_follow_accept_language(gw):
    kk = get_me(gw, **{"Accept-Language": "kk"}).json()["title"]
    en = get_me(gw, **{"Accept-Language": "en-GB,en;q=0.9"}).json()["title"]
    ru = get_me(gw).json()["title"]
    assert len({kk, en, ru}) == 3 and en == "Sign in to continue."


def test_public_routes_need_no_token(gw):
    for method, path in [
        ("POST", "/api/identity/sessions"),
        ("POST", "/api/identity/registrations"),
        ("PUT", "/api/identity/registrations/abc123/password"),
        ("GET", "/api/identity/.well-known/jwks.json"),
        ("GET", "/api/kindergarten/kindergartens"),
        ("GET", "/api/kindergarten/districts/5"),
    ]:
        r = session.request(method, f"{gw.url}{path}")
        assert r.status_code == 200, (method, path, r.text)
    # Same path, another method: not public.
    assert_problem(session.delete(f"{gw.url}/api/identity/sessions"), 401, "unauthorized")
    assert_problem(session.post(f"{gw.url}/api/kindergarten/districts"), 401, "unauthorized")


def test_new_key_id_is_fetched_once_known_keys_never(gw, keys, wait_until):
    def fetches():
        return session.get(f"{gw.identity.url}/stats").json()["jwks"]

    token = keys.token()
    before = fetches()
    for _ in range(20):
        assert get_me(gw, token).status_code == 200
        assert get_me(gw, keys.token()).status_code == 200  # new tokens, same key
    assert fetches() == before  # never fetched per request
    keys.add("k2")  # identity rotates its key
    rotated = keys.token("k2")
    wait_until(lambda: get_me(gw, rotated).status_code == 200, timeout=10, message="k2 known")
    assert fetches() > before
    # Unknown key ids do not make the gateway hammer identity: rate-limited refetches.
    counted = fetches()
    for _ in range(20):
        assert_problem(get_me(gw, keys.token("k9", key=keys.private["k1"])), 401, "invalid_token")
    assert fetches() - counted <= 2
