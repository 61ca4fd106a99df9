"""Token verification with cached JWKS, and logs that keep secrets out."""

import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from edu_common import context
from edu_common.logs import JsonFormatter
from edu_common.web.auth import JwksKeySource, TokenVerifier
from edu_common.web.problems import Problem


class Jwks:
    def __init__(self):
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.fetches = 0

    def add(self, kid: str) -> Ed25519PrivateKey:
        self.keys[kid] = Ed25519PrivateKey.generate()
        return self.keys[kid]

    def document(self) -> bytes:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"})
        return json.dumps({"keys": keys}).encode()


@pytest.fixture
def jwks():
    state = Jwks()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.fetches += 1
            body = state.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    yield state
    server.shutdown()


def token(key, kid, **overrides):
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": "edu-identity", "aud": "edu-platform", "sub": "acc-1", "jti": "j1",
        "typ": "access", "roles": ["citizen"], "iat": int(now.timestamp()),
        "exp": int((now + dt.timedelta(minutes=5)).timestamp()),
    } | overrides  # fmt: skip
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})


def test_keys_are_fetched_once_and_again_only_for_a_new_key(jwks):
    k1 = jwks.add("k1")
    verifier = TokenVerifier(JwksKeySource(jwks.url, min_refresh_interval=0))
    for _ in range(5):
        assert verifier.verify(token(k1, "k1")).account_id == "acc-1"
    assert jwks.fetches == 1
    k2 = jwks.add("k2")  # rotation: identity starts signing with a new key
    assert verifier.verify(token(k2, "k2")).roles == {"citizen"}
    assert verifier.verify(token(k1, "k1"))  # the old key still verifies its tokens
    assert jwks.fetches == 2


def test_unknown_keys_do_not_cause_a_fetch_per_request(jwks):
    jwks.add("k1")
    verifier = TokenVerifier(JwksKeySource(jwks.url, min_refresh_interval=60))
    stranger = Ed25519PrivateKey.generate()
    for _ in range(5):
        with pytest.raises(Problem):
            verifier.verify(token(stranger, "nobody"))
    assert jwks.fetches == 1


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda k: token(k, "k1", exp=1), "token_expired"),
        (lambda k: token(k, "k1", aud="someone-else"), "invalid_token"),
        (lambda k: token(k, "k1", typ="refresh"), "invalid_token"),
        (lambda k: token(k, "k1")[:-3] + "abc", "invalid_token"),
        (
            lambda k: jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256", headers={"kid": "k1"}),
            "invalid_token",
        ),
        (lambda k: "not-a-jwt", "invalid_token"),
    ],
)
def test_bad_tokens_are_refused(jwks, make, code):
    key = jwks.add("k1")
    verifier = TokenVerifier(JwksKeySource(jwks.url))
    with pytest.raises(Problem) as err:
        verifier.verify(make(key))
    assert err.value.status == 401 and err.value.code == code


def test_unsigned_token_is_refused(jwks):
    jwks.add("k1")
    unsigned = jwt.encode({"sub": "x"}, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Problem):
        TokenVerifier(JwksKeySource(jwks.url)).verify(unsigned)


def test_log_lines_are_json_with_context_and_without_secrets():
    formatter = JsonFormatter("identity")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login for %s", ("950423451048",),
                               None)  # fmt: skip
    record.password = "Qwerty-2025"
    record.code = "123456"
    record.iin = "950423451048"
    with context.bound(context.Context(request_id="req-abcdefgh", trace_id="a" * 32)):
        line = json.loads(formatter.format(record))
    assert line["msg"] == "login for ********1048"
    assert line["request_id"] == "req-abcdefgh" and line["trace_id"] == "a" * 32
    assert line["password"] == line["code"] == "[redacted]"
    assert line["iin"] == "********1048"
    assert "Qwerty" not in json.dumps(line) and "123456" not in json.dumps(line)
