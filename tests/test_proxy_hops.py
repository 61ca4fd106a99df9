"""Client addresses through two hops, as deployed: client -> Ingress -> gateway -> service.

The Ingress (a stand-in that appends its peer to X-Forwarded-For, as nginx does) is the one
proxy the gateway trusts (GATEWAY_TRUSTED_PROXIES=1); the gateway tells the service exactly the
client's address, and the service trusts the one hop in front of it (TRUSTED_PROXIES=1: the
gateway). Each client is seen as itself everywhere, a client's own X-Forwarded-For changes
nothing, and per-client limits never collapse into one key for everyone (the Ingress's).

Clients and the Ingress speak from their own loopback addresses (127.0.0.5, .6; the Ingress
from .9), so each hop can be told apart on one machine.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "gateway" / "tests"))  # the gateway's test helpers (unique names)

from gateway_support import STUB, VENV_BIN, Keys, Proc, free_port, wait_until  # noqa: E402

pytestmark = pytest.mark.integration
ALICE, BOB, INGRESS = "127.0.0.5", "127.0.0.6", "127.0.0.9"
# A public route of the gateway, served here by the service stand-in.
PATH = "/api/kindergarten/kindergartens/kg-1"


@pytest.fixture(scope="module")
def hops(tmp_path_factory):
    base = tmp_path_factory.mktemp("hops")
    started: list[Proc] = []

    def start(argv, env, name, url):
        proc = Proc(argv, {**os.environ, **env}, base / f"{name}.log", url)
        started.append(proc)
        wait_until(proc.alive, timeout=60, message=name)
        return proc

    try:
        keys = Keys(base / "jwks.json")
        jwks_port = free_port()
        jwks = start(
            [sys.executable, str(STUB), str(jwks_port), "identity", str(keys.path)],
            {},
            "jwks",
            f"http://127.0.0.1:{jwks_port}",
        )
        service_port = free_port()
        service = start(
            [str(VENV_BIN / "gunicorn"), "-c", "python:edu_common.gunicorn_conf",
             "--pythonpath", str(ROOT / "gateway" / "tests"), "service_stub:create_app()"],
            {"PORT": str(service_port), "WEB_CONCURRENCY": "1", "TRUSTED_PROXIES": "1",
             "PROMETHEUS_MULTIPROC_DIR": str(base / "prom-service")},
            "service",
            f"http://127.0.0.1:{service_port}",
        )  # fmt: skip
        gateway_port = free_port()
        gateway = start(
            [str(VENV_BIN / "gunicorn"), "-c", "python:gateway.gunicorn_conf",
             "gateway.server:runner"],
            {"PORT": str(gateway_port), "WEB_CONCURRENCY": "1",
             "GATEWAY_UPSTREAMS": f"kindergarten={service.url}",
             "IDENTITY_JWKS_URL": f"{jwks.url}/.well-known/jwks.json",
             "GATEWAY_TRUSTED_PROXIES": "1", "GATEWAY_RATE_PER_ADDRESS": "0.01/8",
             "PROMETHEUS_MULTIPROC_DIR": str(base / "prom-gateway")},
            "gateway",
            f"http://127.0.0.1:{gateway_port}",
        )  # fmt: skip
        ingress_port = free_port()
        ingress = start(
            [sys.executable, str(ROOT / "gateway" / "tests" / "ingress_stub.py"),
             str(ingress_port), gateway.url, INGRESS],
            {},
            "ingress",
            f"http://127.0.0.1:{ingress_port}",
        )  # fmt: skip
        yield ingress
    finally:
        for proc in reversed(started):
            proc.stop()


def call(ingress: Proc, client: str, path: str = PATH, **headers) -> tuple[int, dict]:
    """A request from the client's own address, through the Ingress."""
    host, port = ingress.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(client, 0))
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def test_the_service_sees_the_real_client_through_two_hops(hops):
    status, seen = call(hops, ALICE)
    assert status == 200, seen
    assert seen["remote_addr"] == ALICE
    assert seen["x_forwarded_for"] == ALICE  # one address: the gateway's verdict, nothing more
    assert seen["scheme"] == "https"  # the Ingress's TLS, believed through the trusted hops
    status, seen = call(hops, BOB, path=PATH + "2")
    assert seen["remote_addr"] == BOB  # another client, another address: no collapse


def test_a_spoofed_forwarded_for_is_ignored(hops):
    for forged in ("6.6.6.6", "6.6.6.6, 7.7.7.7", "not an address", BOB):
        status, seen = call(hops, ALICE, path=PATH + "3", **{"X-Forwarded-For": forged})
        assert status == 200, seen
        assert seen["remote_addr"] == ALICE, forged
        assert seen["x_forwarded_for"] == ALICE


def test_per_client_limits_are_per_client_not_per_ingress(hops):
    """The gateway's per-address bucket (8 here) is the client's: spoofing does not refill it,
    and another client behind the same Ingress is not held back."""
    carol, dave = "127.0.0.7", "127.0.0.8"
    statuses = [call(hops, carol, **{"X-Forwarded-For": f"10.0.0.{n}"})[0] for n in range(10)]
    assert statuses[:8] == [200] * 8 and statuses[8:] == [429, 429]
    assert call(hops, dave)[0] == 200
