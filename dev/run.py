"""`make run`: the whole platform on one machine, in the foreground.

Starts the embedded MongoDB-compatible server, the development inbox, and each service's
HTTP API (gunicorn) and worker; Ctrl-C or SIGTERM stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
VENV_BIN = ROOT / ".venv" / "bin"
MONGO_PORT = 27017
INBOX_HTTP, INBOX_SMTP = 8025, 1025
GATEWAY_PORT = 8080
# Development defaults, marked as such: never used outside `make run`.
DEV_ADMIN_IIN = "880714327312"
DEV_ADMIN_PASSWORD = "Admin-dev-2026"  # noqa: S105 - documented development default

SERVICES = [
    # name, package, HTTP port, worker health port
    ("identity", "identity", 8001, 9101),
    ("applicant", "applicant", 8002, 9102),
    ("kindergarten", "kindergarten", 8003, 9103),
    ("sms-notify", "sms_notify", 8004, 9104),
]


@dataclass
class Proc:
    name: str
    argv: list[str]
    env: dict = field(default_factory=dict)
    ready_url: str | None = None
    # Started stage by stage, each ready before the next: the workers bind their queues before
    # any web process writes an event (the bootstrap admin's account.changed, say).
    stage: int = 0
    popen: subprocess.Popen | None = None


def say(msg: str) -> None:
    print(f"[run] {msg}", flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def broker_url() -> str:
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    parsed = urlparse(url)
    if parsed.scheme.startswith("amqp") and port_open(parsed.port or 5672, parsed.hostname):
        say(f"RabbitMQ answers at {parsed.hostname}:{parsed.port or 5672}")
        return url
    say(
        f"RabbitMQ is NOT answering at {parsed.hostname}:{parsed.port or 5672}. "
        f"Falling back to kombu's filesystem transport under {DATA / 'bus'} "
        "(one machine only; start RabbitMQ with `rabbitmq-server -detached` for the real bus)."
    )
    return "filesystem://"


def dev_secrets() -> dict:
    """Development secrets and keys under .data/, made once."""
    sys.path[:0] = [str(ROOT / "services" / "identity"), str(ROOT / "libs" / "edu-common")]
    from identity.tokens import generate_key_file
    from identity.tools import devca

    secrets_dir = DATA / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True)
    pepper = secrets_dir / "code_pepper"
    if not pepper.exists():
        pepper.write_text(secrets.token_urlsafe(32))
        pepper.chmod(0o600)
    keys = secrets_dir / "jwt_signing_keys"
    if not list(keys.glob("*.pem")):
        generate_key_file(keys)
    ca_dir = DATA / "devca"
    devca.init_ca(ca_dir)
    return {"pepper": pepper, "keys": keys, "ca": ca_dir / "ca.pem"}


def plan(amqp_url: str, paths: dict) -> list[Proc]:
    mongo_url = f"mongodb://127.0.0.1:{MONGO_PORT}/?directConnection=true"
    common = {
        "MONGO_URL": mongo_url,
        "AMQP_URL": amqp_url,
        "BUS_DIR": str(DATA / "bus"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "IDENTITY_JWKS_URL": "http://127.0.0.1:8001/.well-known/jwks.json",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "1"),
        "TRUSTED_PROXIES": "1",  # the gateway on 8080
        "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
        "WEB_THREADS": "8",
    }
    per_service = {
        "identity": {
            "JWT_SIGNING_KEYS_DIR": str(paths["keys"]),
            "CODE_PEPPER_FILE": str(paths["pepper"]),
            "BOOTSTRAP_ADMIN_IIN": os.environ.get("BOOTSTRAP_ADMIN_IIN", DEV_ADMIN_IIN),
            "BOOTSTRAP_ADMIN_PASSWORD": os.environ.get(
                "BOOTSTRAP_ADMIN_PASSWORD", DEV_ADMIN_PASSWORD
            ),
            "BOOTSTRAP_ADMIN_EMAIL": "admin@edu.example.kz",
            "BOOTSTRAP_ADMIN_PHONE": "+77010000002",
            # The national CA's bundle when given (real ЭЦП from NCALayer), else the dev CA.
            "EDS_TRUSTED_CA_FILE": os.environ.get("EDS_TRUSTED_CA_FILE") or str(paths["ca"]),
            "POPULATION_REGISTRY_URL": str(ROOT / "dev" / "population.json"),
            "PASSWORD_POLICY": os.environ.get("PASSWORD_POLICY", "strict"),
        },
        "sms-notify": {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(INBOX_SMTP),
            "SMSC_URL": f"http://127.0.0.1:{INBOX_HTTP}",
            "SMSC_LOGIN": "dev",
            "SMSC_PASSWORD": "dev-only",
        },
    }
    procs = [
        Proc(
            "mongo",
            [
                str(ROOT / ".venv-db" / "bin" / "secantusd-py"),
                "--port",
                str(MONGO_PORT),
                "--storage-path",
                str(DATA / "mongo"),
                "--log-level",
                "WARNING",
            ],
        ),
        Proc(
            "inbox",
            [
                str(VENV_BIN / "python"),
                "-m",
                "dev.inbox",
                "--http-port",
                str(INBOX_HTTP),
                "--smtp-port",
                str(INBOX_SMTP),
                "--store",
                str(DATA / "inbox.jsonl"),
            ],
            ready_url=f"http://127.0.0.1:{INBOX_HTTP}/healthz",
        ),
    ]
    for name, package, port, worker_port in SERVICES:
        env = {**common, **per_service.get(name, {}), "MONGO_DATABASE": package}
        prom = DATA / "prometheus" / name
        prom.mkdir(parents=True, exist_ok=True)
        procs.append(
            Proc(
                f"{name}-web",
                [
                    str(VENV_BIN / "gunicorn"),
                    "--config",
                    "python:edu_common.gunicorn_conf",
                    f"{package}.app:create_app()",
                ],
                env={**env, "PORT": str(port), "PROMETHEUS_MULTIPROC_DIR": str(prom)},
                ready_url=f"http://127.0.0.1:{port}/readyz",
                stage=2,
            )
        )
        procs.append(
            Proc(
                f"{name}-worker",
                [str(VENV_BIN / "python"), "-m", f"{package}.worker"],
                env={**env, "WORKER_PORT": str(worker_port)},
                ready_url=f"http://127.0.0.1:{worker_port}/readyz",
                stage=1,
            )
        )
    # The gateway last: web clients reach the services through it (dev upstream defaults).
    prom = DATA / "prometheus" / "gateway"
    prom.mkdir(parents=True, exist_ok=True)
    procs.append(
        Proc(
            "gateway",
            [str(VENV_BIN / "gunicorn"), "--config", "python:gateway.gunicorn_conf",
             "gateway.server:runner"],
            env={**common, "PORT": str(GATEWAY_PORT), "PROMETHEUS_MULTIPROC_DIR": str(prom),
                 "GATEWAY_BODY_LIMITS": "notify=6291456;applicant=6291456"},  # uploads
            ready_url=f"http://127.0.0.1:{GATEWAY_PORT}/healthz",
            stage=3,
        )
    )  # fmt: skip
    return procs


def pump(proc: Proc) -> None:
    """Prefix each line of a child's output with its name."""
    assert proc.popen and proc.popen.stdout
    for line in proc.popen.stdout:
        sys.stdout.write(f"{proc.name:>20} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def wait_ready(proc: Proc, deadline: float, stopping: threading.Event) -> bool:
    while time.monotonic() < deadline and not stopping.is_set():
        if proc.popen.poll() is not None:
            return False
        try:
            with urlopen(proc.ready_url, timeout=1) as resp:  # noqa: S310 - our own local URL
                if resp.status == 200:
                    return True
        except OSError:
            pass
        stopping.wait(0.2)
    return False


def start_stage(procs: list[Proc], started: list[Proc], stopping: threading.Event) -> None:
    for proc in procs:
        env = {**os.environ, **proc.env, "PYTHONUNBUFFERED": "1"}
        proc.popen = subprocess.Popen(
            proc.argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our own signals reach it only through us
        )
        started.append(proc)
        threading.Thread(target=pump, args=(proc,), daemon=True).start()
        if proc.name == "mongo":
            deadline = time.monotonic() + 60
            while not port_open(MONGO_PORT) and time.monotonic() < deadline:
                if stopping.is_set() or proc.popen.poll() is not None:
                    raise RuntimeError("the embedded MongoDB-compatible server did not start")
                time.sleep(0.1)
    for proc in procs:
        if proc.ready_url and not wait_ready(proc, time.monotonic() + 60, stopping):
            if stopping.is_set():
                return
            raise RuntimeError(f"{proc.name} did not become ready at {proc.ready_url}")


def load_catalogue() -> None:
    """The development kindergarten catalogue, so a newcomer can apply at once (idempotent)."""
    from pymongo import MongoClient

    from dev import colleges, kindergartens

    client = MongoClient(f"mongodb://127.0.0.1:{MONGO_PORT}/?directConnection=true")
    try:
        counts = kindergartens.load(client["kindergarten"])
        college_counts = colleges.load(client["applicant"])
    finally:
        client.close()
    say(f"kindergarten catalogue: {counts}")
    say(f"college catalogue: {college_counts}")


def print_ready() -> None:
    say("ready:")
    say(f"  gateway       http://127.0.0.1:{GATEWAY_PORT}  (services under /api/, docs: /docs)")
    say("  identity      http://127.0.0.1:8001  (OpenAPI: /openapi.json)")
    say("  applicant     http://127.0.0.1:8002")
    say("  kindergarten  http://127.0.0.1:8003")
    say("  sms-notify    http://127.0.0.1:8004")
    say(f"  dev inbox     http://127.0.0.1:{INBOX_HTTP}/messages  (SMTP 127.0.0.1:{INBOX_SMTP})")
    say(f"  bootstrap admin: IIN {DEV_ADMIN_IIN}, password {DEV_ADMIN_PASSWORD} (development)")
    say("Ctrl-C stops everything.")


def main() -> int:
    DATA.mkdir(exist_ok=True)
    ports = (
        MONGO_PORT,
        INBOX_HTTP,
        INBOX_SMTP,
        GATEWAY_PORT,
        *(p for s in SERVICES for p in s[2:]),
    )
    busy = [p for p in ports if port_open(p)]
    if busy:
        say(f"ports already in use: {busy}. Is the platform already running? Stop it first.")
        return 1
    amqp_url = broker_url()
    paths = dev_secrets()
    procs = plan(amqp_url, paths)
    stopping = threading.Event()

    def stop(signum=None, _frame=None):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    started: list[Proc] = []
    code = 0
    try:
        for stage in sorted({p.stage for p in procs}):
            if stopping.is_set():
                break
            start_stage([p for p in procs if p.stage == stage], started, stopping)
            if stage == 0:
                load_catalogue()
        if stopping.is_set():
            return 0
        print_ready()
        while not stopping.is_set():
            for proc in started:
                if proc.popen.poll() is not None:
                    say(f"{proc.name} exited with {proc.popen.returncode}; stopping the rest")
                    code = 1
                    stopping.set()
            stopping.wait(0.5)
    except RuntimeError as exc:
        say(str(exc))
        code = 1
    finally:
        shutdown(started)
    return code


def shutdown(started: list[Proc]) -> None:
    say("stopping...")
    for proc in reversed(started):
        if proc.popen and proc.popen.poll() is None:
            os.killpg(proc.popen.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in reversed(started):
        if not proc.popen:
            continue
        try:
            proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()
    say("all stopped.")


if __name__ == "__main__":
    sys.exit(main())
