"""Helpers of the gateway's tests: processes, signing keys, problem checks."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[2]
STUB = Path(__file__).with_name("gateway_stub.py")
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    """Poll until predicate() is truthy; fail after the deadline (as the root conftest's,
    which cannot be imported by name here: other test folders have a conftest too)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)
    return result


class _Http(requests.Session):
    """requests with a deadline on every call."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(*args, **kwargs)


session = _Http()


class Proc:
    def __init__(self, argv, env, log: Path, url: str, stop_signal=signal.SIGTERM):
        self.stop_signal = stop_signal
        self.log = log
        self.url = url
        self.argv, self.env = argv, env
        self.start()

    def start(self):
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def alive(self) -> bool:
        if self.popen.poll() is not None:
            pytest.fail(f"{self.argv[:3]} exited:\n{self.log.read_text()[-3000:]}")
        try:
            return session.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # not listening yet, or busy starting
            return False

    def stop(self):
        session.close()  # our idle keep-alive connections would hold a graceful stop back
        if self.popen.poll() is None:
            self.popen.send_signal(self.stop_signal)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Keys:
    """Signing keys standing in for identity's, and a JWKS file the stub serves."""

    def __init__(self, path: Path):
        self.path = path
        self.private: dict[str, Ed25519PrivateKey] = {}
        self.add("k1")

    def add(self, kid: str) -> None:
        self.private[kid] = Ed25519PrivateKey.generate()
        keys = []
        for k, key in self.private.items():
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": k, "alg": "EdDSA", "use": "sig"})
        self.path.write_text(json.dumps({"keys": keys}))

    def token(self, kid="k1", *, key=None, alg="EdDSA", ttl=300, **claims) -> str:
        now = int(time.time())
        payload = {
            "iss": "edu-identity",
            "aud": "edu-platform",
            "sub": claims.pop("sub", "acc-1"),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "typ": "access",
            "roles": ["citizen"],
            **claims,
        }
        return jwt.encode(payload, key or self.private[kid], algorithm=alg, headers={"kid": kid})


def assert_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json"), resp.headers
    body = resp.json()
    assert body["status"] == status and body["code"] == code, body
    assert body["type"] == f"/problems/{code}" and body["title"]
    assert "Traceback" not in resp.text
    return body
