"""The real identity service behind the real gateway: a sign-in through the gateway gives a
token that the gateway verifies against identity's own JWKS, and identity accepts it too."""

from __future__ import annotations

import os
import uuid

import pytest
from gateway_support import ROOT, VENV_BIN, Proc, assert_problem, free_port, session, wait_until

ADMIN_IIN = "880714327312"  # a man from the development population
ADMIN_PASSWORD = "Admin-Pass-1"


@pytest.fixture(scope="module")
def identity(mongo_url, tmp_path_factory):
    from identity.tokens import generate_key_file
    from identity.tools import devca

    base = tmp_path_factory.mktemp("identity")
    generate_key_file(base / "keys")
    devca.init_ca(base / "ca")
    (base / "pepper").write_text("test-pepper-0123456789")
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "MONGO_URL": mongo_url,
        "MONGO_DATABASE": f"identity_{uuid.uuid4().hex[:10]}",
        "AMQP_URL": "filesystem://",
        "BUS_DIR": str(base / "bus"),
        "JWT_SIGNING_KEYS_DIR": str(base / "keys"),
        "CODE_PEPPER_FILE": str(base / "pepper"),
        "EDS_TRUSTED_CA_FILE": str(base / "ca" / "ca.pem"),
        "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
        "BOOTSTRAP_ADMIN_IIN": ADMIN_IIN,
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "BOOTSTRAP_ADMIN_EMAIL": "admin@example.kz",
        "BOOTSTRAP_ADMIN_PHONE": "+77010000002",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prom-identity")),
    }
    argv = [str(VENV_BIN / "gunicorn"), "--config", "python:edu_common.gunicorn_conf",
            "identity.app:create_app()"]  # fmt: skip
    proc = Proc(argv, env, base / "identity.log", f"http://127.0.0.1:{port}")
    try:
        wait_until(proc.alive, timeout=60, message="identity")
        yield proc
    finally:
        proc.stop()


def test_sign_in_and_me_through_the_gateway(identity, start_gateway):
    gw = start_gateway({"identity": [identity]}, identity)
    signed_in = session.post(
        f"{gw.url}/api/identity/sessions", json={"iin": ADMIN_IIN, "password": ADMIN_PASSWORD}
    )
    assert signed_in.status_code == 201, signed_in.text
    token = signed_in.json()["access_token"]
    me = session.get(f"{gw.url}/api/identity/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["iin"].endswith(ADMIN_IIN[-4:])
    # A tampered signature stops at the gateway with the services' problem shape.
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    refused = session.get(
        f"{gw.url}/api/identity/me", headers={"Authorization": f"Bearer {forged}"}
    )
    assert_problem(refused, 401, "invalid_token")
    # identity's own OpenAPI, under the gateway prefix.
    doc = session.get(f"{gw.url}/openapi.json").json()
    assert "/api/identity/sessions" in doc["paths"] and "/api/identity/me" in doc["paths"]
