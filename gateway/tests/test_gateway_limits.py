"""Limits that must not lock out people who share an address, the client address the services
are told, and the refusal to start in production on development defaults."""

from __future__ import annotations

import os
import subprocess

import pytest
from gateway_support import ROOT, VENV_BIN, Proc, assert_problem, free_port, session, wait_until

I1, I2 = "880714327312", "950423451048"


@pytest.fixture(scope="module")
def gw(start_stub, start_gateway):
    ident = start_stub("identity")
    return start_gateway(
        {"identity": [ident]},
        ident,
        GATEWAY_RATE_SENSITIVE="0.01/8",  # the per-address ceiling
        GATEWAY_RATE_SENSITIVE_TARGET="0.01/2",  # per registration, IIN, e-mail, challenge
        GATEWAY_TRUSTED_PROXIES="1",
    )


def post(gw, path, address, **kw):
    return session.post(f"{gw.url}/api/identity{path}", headers={"X-Forwarded-For": address}, **kw)


def test_one_registration_is_limited_not_the_address_it_shares(gw):
    room = "198.51.100.10"
    confirm = "/registrations/{}/email/confirm"
    statuses = [
        post(gw, confirm.format("reg-a"), room, json={"code": "1"}).status_code for _ in "abc"
    ]
    assert statuses == [200, 200, 429]
    limited = post(gw, confirm.format("reg-a"), "198.51.100.99", json={"code": "1"})
    assert_problem(limited, 429, "too_many_requests")  # from any address: it is per target
    assert int(limited.headers["Retry-After"]) >= 1
    # Another person's registration from the same room, and a new e-mail: not affected.
    assert post(gw, confirm.format("reg-b"), room, json={"code": "1"}).status_code == 200
    assert post(gw, "/registrations", room, json={"email": "b@example.kz"}).status_code == 200


def test_sign_in_is_limited_per_iin_whatever_the_address(gw):
    statuses = [
        post(gw, "/sessions", f"198.51.100.{20 + n}", json={"iin": I1, "password": "x"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert post(
        gw, "/sessions", "198.51.100.20", json={"iin": I2, "password": "x"}
    ).status_code == (200)


def test_the_address_ceiling_still_stops_a_flood(gw):
    flood = "198.51.100.66"
    statuses = [
        post(gw, "/sessions", flood, json={"iin": f"9{n:011d}", "password": "x"}).status_code
        for n in range(9)
    ]
    assert statuses[:8] == [200] * 8 and statuses[8] == 429


def test_the_service_is_told_exactly_the_client_address(gw):
    """One trusted proxy in front: its right-most entry is the client; anything the client put
    to the left is dropped, and the gateway appends nothing of its own."""

    def told(forwarded: str) -> str:
        echoed = session.get(
            f"{gw.url}/api/identity/registrations/reg-x", headers={"X-Forwarded-For": forwarded}
        )
        return echoed.json()["headers"]["x-forwarded-for"]

    assert told("6.6.6.6, 203.0.113.5") == "203.0.113.5"
    assert told("203.0.113.5:51234") == "203.0.113.5"
    # A trusted proxy that wrote no address we can read: the peer is the client.
    assert told("unknown") == "127.0.0.1"


def _gateway(env: dict) -> subprocess.CompletedProcess:
    argv = [str(VENV_BIN / "gunicorn"), "-c", "python:gateway.gunicorn_conf",
            "gateway.server:runner"]  # fmt: skip
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_on_development_defaults(tmp_path):
    env = {
        **os.environ,
        "EDU_ENV": "production",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    env.pop("GATEWAY_UPSTREAMS", None)
    env.pop("IDENTITY_JWKS_URL", None)
    done = _gateway(env)
    assert done.returncode != 0
    assert "GATEWAY_UPSTREAMS" in done.stderr and "IDENTITY_JWKS_URL" in done.stderr
    assert "127.0.0.1:8001" not in done.stderr  # the names, never the values
    assert "Booting worker" not in done.stderr  # refused before any worker served
    # Only the upstreams set: the JWKS URL alone is still named.
    done = _gateway({**env, "GATEWAY_UPSTREAMS": "identity=http://identity.edu.svc:8000"})
    assert done.returncode != 0
    assert "IDENTITY_JWKS_URL" in done.stderr and "GATEWAY_UPSTREAMS" not in done.stderr


def test_production_starts_with_everything_set(tmp_path):
    """Deployment addresses (not on this machine): it starts and serves, keys or not."""
    port = free_port()
    env = {
        **os.environ,
        "EDU_ENV": "production",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
        "GATEWAY_UPSTREAMS": "identity=http://identity.edu.invalid:8000",
        "IDENTITY_JWKS_URL": "http://identity.edu.invalid:8000/.well-known/jwks.json",
    }
    argv = [str(VENV_BIN / "gunicorn"), "-c", "python:gateway.gunicorn_conf",
            "gateway.server:runner"]  # fmt: skip
    proc = Proc(argv, env, tmp_path / "gateway.log", f"http://127.0.0.1:{port}")
    try:
        wait_until(proc.alive, timeout=30, message="the gateway in production")
        assert "development defaults" not in proc.output()
    finally:
        proc.stop()


def test_internal_routes_are_not_reachable_from_outside(gw, keys):
    """identity's /internal/ API is for the services (their own hop), never via the gateway."""
    auth = {"Authorization": f"Bearer {keys.token()}"}
    for path in ("/internal/accounts/acc-1", "/internal", "/x/../internal/accounts/acc-1"):
        r = session.get(f"{gw.url}/api/identity{path}", headers=auth)
        assert_problem(r, 404, "not_found")
    assert session.get(f"{gw.url}/api/identity/internally", headers=auth).status_code == 200
