"""Production refuses development defaults (issue 10, §5): with EDU_ENV=production a service's
web process (gunicorn) and worker exit at start, non-zero and before serving anything, naming
each variable still at a development value, never the value; with everything set they start.
`make run` (EDU_ENV unset) is unchanged: every other test starts the services that way."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from dev import run as dev_run
from edu_common.config import DEV_AMQP_URL, DEV_MONGO_URL
from edu_common.settings import declared, development_defaults
from identity.settings import DEV_BOOTSTRAP_ADMIN_PASSWORD, DEV_PEPPER
from identity.settings import Settings as IdentitySettings
from identity.tokens import generate_key_file
from kindergarten.settings import DEV_DOOR_CODE_SECRET
from kindergarten.settings import Settings as KindergartenSettings
from tests.platform_processes import (
    PACKAGES,
    ROOT,
    free_port,
    start_web,
    start_worker,
    wait_until,
)

pytestmark = pytest.mark.integration
PACKAGES = {**PACKAGES, "applicant": "applicant"}
# Development values that must never show in what a refusing process prints.
DEV_VALUES = [
    DEV_DOOR_CODE_SECRET,
    DEV_PEPPER.decode(),
    DEV_BOOTSTRAP_ADMIN_PASSWORD,
    DEV_MONGO_URL,
    DEV_AMQP_URL,
    "guest:guest",
]


def clean_env(tmp_path, **values: str) -> dict:
    """The test's environment without any platform variable, plus ``values``."""
    ours = {d.env for cls in (IdentitySettings, KindergartenSettings) for d in declared(cls)} | {
        "EDU_ENV",
        "PORT",
        "WORKER_PORT",
    }
    env = {k: v for k, v in os.environ.items() if k not in ours and not k.endswith("_FILE")}
    prom = tmp_path / "prom"
    prom.mkdir(exist_ok=True)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(prom), "WEB_CONCURRENCY": "1", **values}


def run(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def web_argv(service: str) -> list[str]:
    gunicorn = str(os.path.join(os.path.dirname(sys.executable), "gunicorn"))
    return [
        gunicorn,
        "--config",
        "python:edu_common.gunicorn_conf",
        f"{PACKAGES[service]}.app:create_app()",
    ]


def worker_argv(service: str) -> list[str]:
    return [sys.executable, "-m", f"{PACKAGES[service]}.worker"]


@pytest.mark.parametrize("service", sorted(PACKAGES))
@pytest.mark.parametrize("kind", ["web", "worker"])
def test_production_on_development_defaults_exits_at_start(service, kind, tmp_path):
    port = free_port()
    env = clean_env(tmp_path, EDU_ENV="production", PORT=str(port), WORKER_PORT=str(free_port()))
    done = run(web_argv(service) if kind == "web" else worker_argv(service), env)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "EDU_ENV=production refuses development defaults" in out
    for name in ("MONGO_URL", "AMQP_URL", "IDENTITY_JWKS_URL"):
        if service == "identity" and name == "IDENTITY_JWKS_URL":
            continue  # identity checks its tokens with its own keys
        assert name in out, out
    for value in DEV_VALUES:
        assert value not in out
    # Nothing was ever served: gunicorn stopped before binding its port.
    assert "Listening at" not in out
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def kindergarten_env(tmp_path, mongo_url: str, amqp_url: str, **values: str) -> dict:
    """Every development default of kindergarten set to a deployment's value."""
    return clean_env(
        tmp_path,
        EDU_ENV="production",
        MONGO_URL=mongo_url,
        MONGO_DATABASE="kindergarten_prod_test",
        AMQP_URL=amqp_url,
        IDENTITY_JWKS_URL="http://identity-web.edu.invalid:8000/.well-known/jwks.json",
        IDENTITY_URL="http://identity-web.edu.invalid:8000",
        POPULATION_REGISTRY_URL="https://registry.edu.invalid/api",
        DOOR_CODE_SECRET="a-real-door-code-secret-0123456789",
        **values,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DOOR_CODE_SECRET", ""), ("IDENTITY_JWKS_URL", "http://127.0.0.1:8001/jwks.json")],
)
def test_one_development_value_is_named_alone(variable, value, tmp_path, mongo_url):
    env = kindergarten_env(tmp_path, mongo_url, "amqp://mq.edu.invalid/", PORT=str(free_port()))
    env[variable] = value
    for argv in (web_argv("kindergarten"), worker_argv("kindergarten")):
        done = run(argv, env)
        out = done.stdout + done.stderr
        assert done.returncode != 0, out
        assert f"refuses development defaults; set {variable}\n" in out + "\n", out
        assert DEV_DOOR_CODE_SECRET not in out and "127.0.0.1:8001" not in out


def test_the_development_admin_password_is_refused_by_name(tmp_path, mongo_url):
    keys = tmp_path / "keys"
    generate_key_file(keys)
    env = clean_env(
        tmp_path,
        EDU_ENV="production",
        MONGO_URL=mongo_url,
        AMQP_URL="amqp://mq.edu.invalid/",
        CODE_PEPPER="a-real-pepper-0123456789",
        JWT_SIGNING_KEYS_DIR=str(keys),
        POPULATION_REGISTRY_URL="https://registry.edu.invalid/api",
        BOOTSTRAP_ADMIN_IIN="880714327312",
        BOOTSTRAP_ADMIN_PASSWORD=DEV_BOOTSTRAP_ADMIN_PASSWORD,
        PORT=str(free_port()),
    )
    done = run(web_argv("identity"), env)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "set BOOTSTRAP_ADMIN_PASSWORD" in out and DEV_BOOTSTRAP_ADMIN_PASSWORD not in out


def test_with_everything_set_production_starts(tmp_path, mongo_url, amqp_url):
    env = kindergarten_env(tmp_path, mongo_url, amqp_url)
    web = start_web("kindergarten", env, tmp_path / "web.log")
    worker_port = free_port()
    worker_env = {**env, "WORKER_PORT": str(worker_port)}
    worker = start_worker("kindergarten", worker_env, tmp_path / "worker.log")
    try:
        ready = wait_until(lambda: _ready(web, f"{web.url}/readyz"), message="web ready")
        assert ready["status"] == "ready"
        worker_url = f"http://127.0.0.1:{worker_port}/readyz"
        wait_until(lambda: _ready(worker, worker_url), message="worker ready")
        assert "refuses" not in web.output() + worker.output()
    finally:
        web.stop()
        worker.stop()


def _ready(proc, url: str) -> dict | None:
    if proc.popen.poll() is not None:
        pytest.fail(f"{proc.argv[-1]} exited:\n{proc.output()[-3000:]}")
    try:
        r = requests.get(url, timeout=2)
    except requests.RequestException:
        return None
    return r.json() if r.status_code == 200 else None


def test_make_run_stays_development_and_its_admin_password_is_a_development_value():
    # `make run` never sets EDU_ENV (development), and what it uses is what production refuses.
    assert "EDU_ENV" not in (ROOT / "dev" / "run.py").read_text(encoding="utf-8")
    assert dev_run.DEV_ADMIN_PASSWORD == DEV_BOOTSTRAP_ADMIN_PASSWORD
    marked = IdentitySettings(bootstrap_admin_password=dev_run.DEV_ADMIN_PASSWORD)
    assert "BOOTSTRAP_ADMIN_PASSWORD" in development_defaults(marked)
    real = IdentitySettings(bootstrap_admin_password="Chosen-by-the-operator-1")
    assert "BOOTSTRAP_ADMIN_PASSWORD" not in development_defaults(real)
