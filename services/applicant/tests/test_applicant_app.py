"""applicant starts, answers its probes and serves its OpenAPI document."""

import pytest

from applicant.app import create_app

pytestmark = pytest.mark.integration


def test_probes_and_openapi(mongo_url, monkeypatch):
    monkeypatch.setenv("MONGO_URL", mongo_url)
    monkeypatch.setenv("MONGO_DATABASE", "applicant_probe_test")
    client = create_app().test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] is True
    assert client.get("/openapi.json").json["info"]["title"] == "applicant"
    missing = client.get("/nothing-here")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and b"http_request" in metrics.data
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
