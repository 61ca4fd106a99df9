"""Routing to real upstream processes: prefixes, several instances, headers passed on."""

from __future__ import annotations

import json

import pytest
from gateway_support import assert_problem, session


@pytest.fixture(scope="module")
def stack(start_stub, start_gateway, keys):
    ident = start_stub("identity")
    kg_a, kg_b = start_stub("kg-a"), start_stub("kg-b")
    gw = start_gateway(
        {"identity": [ident], "kindergarten": [kg_a, kg_b]},
        ident,
        CORS_ORIGINS="https://app.edu.example",
    )
    return gw, ident, (kg_a, kg_b)


def test_prefix_is_removed_and_query_kept(stack, keys):
    gw, *_ = stack
    token = keys.token()
    r = session.get(
        f"{gw.url}/api/identity/things/7?x=1&y=%2F", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    echo = r.json()
    assert echo["instance"] == "identity"
    assert echo["raw_path"] == "/things/7?x=1&y=%2F"
    # The token goes on, so the service can check it itself.
    assert echo["headers"]["authorization"] == f"Bearer {token}"
    assert echo["headers"]["x-forwarded-prefix"] == "/api/identity"


def test_requests_are_spread_over_instances(stack, keys):
    gw, *_ = stack
    auth = {"Authorization": f"Bearer {keys.token()}"}
    seen = {session.get(f"{gw.url}/api/kindergarten/x", headers=auth).json()["instance"]
            for _ in range(6)}  # fmt: skip
    assert seen == {"kg-a", "kg-b"}


def test_an_instance_that_dies_is_taken_out(stack, keys, wait_until):
    gw, _, (_, kg_b) = stack
    auth = {"Authorization": f"Bearer {keys.token()}"}
    kg_b.stop()
    try:
        # Every GET still succeeds: a refused connection is retried on the other instance.
        for _ in range(6):
            r = session.get(f"{gw.url}/api/kindergarten/x", headers=auth)
            assert r.status_code == 200 and r.json()["instance"] == "kg-a"

        def out_of_rotation():
            ready = session.get(f"{gw.url}/readyz").json()["upstreams"]["kindergarten"]
            return [i["in_rotation"] for i in ready["instances"]] == [True, False]

        wait_until(out_of_rotation, timeout=10, message="kg-b out of rotation")
    finally:
        kg_b.start()
    wait_until(kg_b.alive, timeout=20)
    # Tried again later: it comes back into rotation by itself.
    wait_until(
        lambda: (
            "kg-b"
            in {
                session.get(f"{gw.url}/api/kindergarten/x", headers=auth).json()["instance"]
                for _ in range(4)
            }
        ),
        timeout=20,
        message="kg-b back in rotation",
    )


def test_unknown_prefix_and_outside_api_are_404(stack):
    gw, *_ = stack
    assert_problem(session.get(f"{gw.url}/api/payments/x"), 404, "not_found")
    assert_problem(session.get(f"{gw.url}/things"), 404, "not_found")


def test_request_id_and_traceparent(stack, keys):
    gw, *_ = stack
    auth = {"Authorization": f"Bearer {keys.token()}"}
    trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    r = session.get(
        f"{gw.url}/api/identity/x",
        headers={**auth, "X-Request-Id": "req-12345678", "traceparent": trace},
    )
    sent = r.json()["headers"]
    assert sent["x-request-id"] == "req-12345678" == r.headers["X-Request-Id"]
    trace_id, parent = sent["traceparent"].split("-")[1:3]
    assert trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert parent != "b7ad6b7169203331"  # the gateway's own span is the parent now
    fresh = session.get(f"{gw.url}/api/identity/x", headers={**auth, "X-Request-Id": "bad id!"})
    assert len(fresh.headers["X-Request-Id"]) == 32
    assert fresh.json()["headers"]["x-request-id"] == fresh.headers["X-Request-Id"]


def test_spoofed_forwarding_headers_are_replaced(stack, keys):
    gw, *_ = stack
    r = session.get(
        f"{gw.url}/api/identity/x",
        headers={"Authorization": f"Bearer {keys.token()}", "X-Forwarded-For": "6.6.6.6"},
    )
    assert r.json()["headers"]["x-forwarded-for"] == "127.0.0.1"


def test_security_headers_and_cors(stack, keys):
    gw, *_ = stack
    origin = "https://app.edu.example"
    r = session.get(
        f"{gw.url}/api/identity/x",
        headers={"Authorization": f"Bearer {keys.token()}", "Origin": origin},
    )
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Server"] == "edu-gateway"  # neither the stub's nor aiohttp's versions
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP, no trusted proxy
    assert r.headers["Access-Control-Allow-Origin"] == origin  # the stub's '*' is not passed on
    pre = session.options(
        f"{gw.url}/api/identity/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-evil",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == origin
    assert pre.headers["Access-Control-Allow-Headers"] == "authorization"
    evil = session.options(
        f"{gw.url}/api/identity/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert_problem(evil, 403, "cors_origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in evil.headers
    other = session.get(f"{gw.url}/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_openapi_is_merged_and_docs_are_local(stack):
    gw, *_ = stack
    doc = session.get(f"{gw.url}/openapi.json").json()
    assert "/api/identity/things/{id}" in doc["paths"]
    assert "/api/kindergarten/things/{id}" in doc["paths"]
    ref = doc["paths"]["/api/identity/things/{id}"]["get"]["responses"]["200"]["content"]
    assert ref["application/json"]["schema"]["$ref"] == "#/components/schemas/identity.Thing"
    assert {"identity.Thing", "kindergarten.Thing"} <= set(doc["components"]["schemas"])
    page = session.get(f"{gw.url}/docs")
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN
    js = session.get(f"{gw.url}/docs/static/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert_problem(
        session.get(f"{gw.url}/docs/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd"), 400, "bad_path"
    )
    assert_problem(session.get(f"{gw.url}/docs/static/index.j2"), 404, "not_found")


def test_readyz_and_metrics(stack, keys):
    gw, *_ = stack
    ready = session.get(f"{gw.url}/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["jwks"] is True and set(body["upstreams"]) == {"identity", "kindergarten"}
    session.get(f"{gw.url}/api/identity/x", headers={"Authorization": f"Bearer {keys.token()}"})
    text = session.get(f"{gw.url}/metrics").text
    assert 'gateway_requests_total{method="GET",status="200",upstream="identity"}' in text
    assert 'gateway_breaker_state{upstream="identity"} 0.0' in text
    assert "gateway_request_duration_seconds_bucket" in text


def test_access_log_is_one_json_line_without_secrets(stack, keys, wait_until):
    gw, *_ = stack
    token = keys.token()
    session.post(
        f"{gw.url}/api/identity/sessions?code=904417",
        json={"iin": "950423451048", "password": "Qwerty-2025"},
        headers={"X-Request-Id": "log-test-0001", "Authorization": f"Bearer {token}"},
    )

    def line():
        for raw in gw.output().splitlines():
            if raw.startswith("{") and "log-test-0001" in raw:
                return json.loads(raw)
        return None

    entry = wait_until(line, timeout=10, message="access log line")
    assert entry["method"] == "POST" and entry["route"] == "/api/identity/sessions"
    assert entry["status"] == 200 and entry["upstream"] == "identity"
    assert entry["request_id"] == "log-test-0001" and "latency_ms" in entry
    out = gw.output()
    for secret in (token, "Qwerty-2025", "904417", "950423451048"):
        assert secret not in out
