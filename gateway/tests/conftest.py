"""The gateway under test: the real gunicorn process in front of stub upstream processes."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

sys.path.append(str(Path(__file__).parent))  # for gateway_support (a unique name)

from gateway_support import STUB, VENV_BIN, Keys, Proc, session

from conftest import free_port, wait_until


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Keys:
    return Keys(tmp_path_factory.mktemp("jwks") / "jwks.json")


@pytest.fixture(scope="module")
def start_stub(tmp_path_factory, keys):
    started: list[Proc] = []

    def start(name: str, port: int | None = None) -> Proc:
        port = port or free_port()
        log = tmp_path_factory.mktemp("stub") / f"{name}.log"
        argv = [sys.executable, str(STUB), str(port), name, str(keys.path)]
        # Stubs die at once (SIGKILL): a crashed instance is what the tests simulate anyway.
        proc = Proc(argv, dict(os.environ), log, f"http://127.0.0.1:{port}", signal.SIGKILL)
        started.append(proc)
        wait_until(proc.alive, timeout=20, message=f"stub {name}")
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def start_gateway(tmp_path_factory):
    started: list[Proc] = []

    def start(upstreams: dict[str, list[Proc]], jwks: Proc, **env) -> Proc:
        port = free_port()
        log = tmp_path_factory.mktemp("gateway") / "gateway.log"
        spec = ";".join(f"{n}={','.join(p.url for p in ps)}" for n, ps in upstreams.items())
        environment = {
            **os.environ,
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "GATEWAY_UPSTREAMS": spec,
            "IDENTITY_JWKS_URL": f"{jwks.url}/.well-known/jwks.json",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path_factory.mktemp("prom")),
            "GATEWAY_HEALTH_INTERVAL": "0.5",
            **env,
        }
        argv = [
            str(VENV_BIN / "gunicorn"),
            "--config",
            "python:gateway.gunicorn_conf",
            "gateway.server:runner",
        ]
        proc = Proc(argv, environment, log, f"http://127.0.0.1:{port}")
        started.append(proc)
        wait_until(proc.alive, timeout=30, message="gateway")
        wait_until(
            lambda: session.get(f"{proc.url}/readyz", timeout=2).status_code == 200,
            timeout=20,
            message="gateway has the JWKS",
        )
        return proc

    yield start
    for proc in started:
        proc.stop()
