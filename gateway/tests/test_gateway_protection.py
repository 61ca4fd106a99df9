"""Rate limits, the circuit breaker, timeouts, path attacks, oversized and malformed requests."""

from __future__ import annotations

import http.client
import socket
import uuid

import pytest
from gateway_support import assert_problem, free_port, session


@pytest.fixture(scope="module")
def gw(start_stub, start_gateway):
    ident = start_stub("identity")
    flaky_port = free_port()
    flaky = start_stub("flaky", flaky_port)
    gateway = start_gateway(
        {
            "identity": [ident],
            "kindergarten": [start_stub("kindergarten")],
            "notify": [flaky],
        },
        ident,
        GATEWAY_TIMEOUTS="kindergarten=0.5",
        GATEWAY_BREAKER_FAILURES="3",
        GATEWAY_BREAKER_OPEN_SECONDS="1",
        GATEWAY_RATE_SENSITIVE="0.01/3",
        GATEWAY_RATE_PER_ACCOUNT="0.01/5",
        GATEWAY_MAX_BODY_BYTES=str(64 * 1024),
        GATEWAY_BODY_LIMITS=f"kindergarten={256 * 1024}",
        GATEWAY_BODY_TIMEOUT="1",
        GATEWAY_HEADER_TIMEOUT="1",
        GATEWAY_TRUSTED_PROXIES="1",
    )
    gateway.flaky = flaky
    return gateway


def raw(gw, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client-side normalisation) and read the answer."""
    port = int(gw.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def get(gw, path: str, **headers):
    conn = http.client.HTTPConnection(gw.url.removeprefix("http://"), timeout=5)
    conn.request("GET", path, headers=headers)  # http.client sends the path untouched
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), body


def test_sensitive_routes_are_rate_limited_per_address(gw):
    addr = {"X-Forwarded-For": "203.0.113.7"}  # one trusted proxy: its client is believed
    statuses = [
        session.post(f"{gw.url}/api/identity/sessions", headers=addr).status_code for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    limited = session.post(f"{gw.url}/api/identity/sessions", headers=addr)
    body = assert_problem(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) >= 1 and body["title"]
    # Another address is not affected.
    other = {"X-Forwarded-For": "203.0.113.8"}
    assert session.post(f"{gw.url}/api/identity/sessions", headers=other).status_code == 200


def test_accounts_are_rate_limited(gw, keys):
    token = keys.token(sub="busy-account")
    statuses = [
        session.get(
            f"{gw.url}/api/identity/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
    calm = keys.token(sub="calm-account")
    ok = session.get(f"{gw.url}/api/identity/me", headers={"Authorization": f"Bearer {calm}"})
    assert ok.status_code == 200


def test_upstream_timeout_is_504(gw, keys):
    r = session.get(
        f"{gw.url}/api/kindergarten/slow?s=3", headers={"Authorization": f"Bearer {keys.token()}"}
    )
    assert_problem(r, 504, "upstream_timeout")


def test_breaker_opens_and_closes(gw, keys, wait_until):
    url = f"{gw.url}/api/notify/x"

    def call():  # a new account each time, so the per-account limit stays out of the way
        token = keys.token(sub=uuid.uuid4().hex)
        return session.get(url, headers={"Authorization": f"Bearer {token}"})

    assert call().status_code == 200
    gw.flaky.stop()
    try:
        # Connection failures: 502 until the breaker opens, then 503 at once with Retry-After.
        first = call()
        assert_problem(first, 502, "bad_gateway")
        (opened,) = wait_until(
            lambda: [r] if (r := call()).status_code == 503 else None,
            timeout=10,
            message="breaker open",
        )
        assert_problem(opened, 503, "service_unavailable")
        assert int(opened.headers["Retry-After"]) >= 1
        metrics = session.get(f"{gw.url}/metrics").text
        assert 'gateway_breaker_state{upstream="notify"} 2.0' in metrics
        assert session.get(f"{gw.url}/readyz").json()["upstreams"]["notify"]["ready"] is False
    finally:
        gw.flaky.start()
    wait_until(gw.flaky.alive, timeout=20)
    # After the open period one trial goes through; its success closes the breaker.
    wait_until(lambda: call().status_code == 200, timeout=15, message="closed")
    metrics = session.get(f"{gw.url}/metrics").text
    assert 'gateway_breaker_state{upstream="notify"} 0.0' in metrics


def test_post_is_not_retried_but_get_is(start_stub, start_gateway, keys):
    ident, a, b = start_stub("identity"), start_stub("pair-a"), start_stub("pair-b")
    # No active health checks during the test: only the requests themselves find b dead.
    gw = start_gateway(
        {"identity": [ident], "applicant": [a, b]},
        ident,
        GATEWAY_HEALTH_INTERVAL="60",
        GATEWAY_EJECT_SECONDS="60",
    )
    auth = {"Authorization": f"Bearer {keys.token(sub='poster')}"}
    b.stop()
    # Round-robin: one of two POSTs meets the dead instance and is answered 502, not retried.
    posts = [session.post(f"{gw.url}/api/applicant/x", json={}, headers=auth) for _ in range(2)]
    assert sorted(r.status_code for r in posts) == [200, 502]
    assert_problem(next(r for r in posts if r.status_code == 502), 502, "bad_gateway")
    # b is out of rotation now; and a GET that meets a refused connection is retried.
    assert session.post(f"{gw.url}/api/applicant/x", json={}, headers=auth).status_code == 200
    c, d = start_stub("pair-c"), start_stub("pair-d")
    gw2 = start_gateway(
        {"identity": [ident], "applicant": [c, d]}, ident, GATEWAY_HEALTH_INTERVAL="60"
    )
    d.stop()
    gets = [session.get(f"{gw2.url}/api/applicant/x", headers=auth) for _ in range(2)]
    assert [r.status_code for r in gets] == [200, 200]
    assert {r.json()["instance"] for r in gets} == {"pair-c"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/identity/..%2fkindergarten/x",
        "/api/identity/%2F..%2F..%2Fkindergarten",
        "/api/identity/a%5c..%5cme",
        "/api/identity/x%00",
        "/api/%2e%2e/%2e%2e/etc/passwd",
        "/../api/identity/me",
    ],
)
def test_path_attacks_are_400(gw, path):
    status, content_type, body = get(gw, path)
    assert status == 400 and content_type.startswith("application/problem+json"), body
    assert b'"code": "bad_path"' in body


def test_dot_segments_cannot_reach_a_protected_route_through_a_public_one(gw):
    # Normalised first: this is /api/identity/me, which needs a token.
    status, _, body = get(gw, "/api/identity/.well-known/jwks.json/../../me")
    assert status == 401, body
    status, _, body = get(gw, "/api/kindergarten/districts/%2e%2e/%2e%2e/identity/me")
    assert status == 401, body


def test_double_slashes_are_collapsed(gw, keys):
    status, _, body = get(gw, "/api/identity//things///7", Authorization=f"Bearer {keys.token()}")
    assert status == 200 and b'"raw_path": "/things/7"' in body
    status, _, body = get(gw, "//api//kindergarten//kindergartens")
    assert status == 200, body


def test_oversized_body_is_413(gw, keys):
    r = session.post(
        f"{gw.url}/api/identity/things",
        data=b"x" * (64 * 1024 + 1),
        headers={"Authorization": f"Bearer {keys.token(sub='big')}"},
    )
    assert_problem(r, 413, "payload_too_large")
    # Chunked, so no Content-Length to refuse up front: still 413.
    chunks = (b"x" * 8192 for _ in range(20))
    r = session.post(
        f"{gw.url}/api/identity/things",
        data=chunks,
        headers={"Authorization": f"Bearer {keys.token(sub='big2')}"},
    )
    assert_problem(r, 413, "payload_too_large")


def test_an_upstream_may_take_larger_bodies(gw, keys):
    headers = {"Authorization": f"Bearer {keys.token(sub='uploader')}"}
    r = session.post(f"{gw.url}/api/kindergarten/things", data=b"x" * (200 * 1024), headers=headers)
    assert r.status_code == 200 and r.json()["body_length"] == 200 * 1024
    chunks = (b"x" * 8192 for _ in range(25))  # 200 KiB with no Content-Length
    r = session.post(f"{gw.url}/api/kindergarten/things", data=chunks, headers=headers)
    assert r.status_code == 200 and r.json()["body_length"] == 200 * 1024
    chunks = (b"x" * 8192 for _ in range(40))  # 320 KiB
    r = session.post(f"{gw.url}/api/kindergarten/things", data=chunks, headers=headers)
    assert_problem(r, 413, "payload_too_large")
    r = session.post(f"{gw.url}/api/identity/things", data=b"x" * (200 * 1024), headers=headers)
    assert_problem(r, 413, "payload_too_large")


def test_huge_headers_are_431(gw):
    status, data = raw(
        gw, b"GET /api/identity/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    )
    assert status == 431 and b"application/problem+json" in data and b"Traceback" not in data


def test_malformed_request_is_400(gw):
    status, data = raw(gw, b"GET /api/identity/me HTTP/1.1\r\nHost x\r\n\r\n")
    assert status == 400 and b"application/problem+json" in data and b"Traceback" not in data
    status, data = raw(gw, b"\x16\x03\x01garbage\r\n\r\n")
    assert status == 400 and b"application/problem+json" in data


def test_slow_body_is_408_and_silent_client_is_dropped(gw, keys):
    port = int(gw.url.rsplit(":", 1)[1])
    head = (
        "POST /api/identity/things HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        f"Authorization: Bearer {keys.token(sub='slow')}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + b"x" * 10)  # and never the rest
        data = s.recv(65536)
    assert data.startswith(b"HTTP/1.1 408") and b"request_timeout" in data
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /api/identity/me HTTP/1.1\r\n")  # headers never finished
        assert s.recv(65536) == b""  # closed by the gateway, not by our timeout


def test_hsts_behind_tls(gw):
    r = session.get(f"{gw.url}/healthz", headers={"X-Forwarded-Proto": "https"})
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unexpected_methods_on_local_routes(gw):
    assert_problem(session.post(f"{gw.url}/healthz"), 405, "method_not_allowed")
