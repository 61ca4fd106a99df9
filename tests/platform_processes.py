"""The services as real processes for tests across them: gunicorn with the shared settings, each
on its own port and database, and identity's sign-up as a person goes through it.

    identity = start_web("identity", identity_env(base, mongo_url), base / "identity.log")
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from identity.tokens import generate_key_file
from identity.tools import devca

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
POPULATION = ROOT / "dev" / "population.json"
PACKAGES = {"identity": "identity", "kindergarten": "kindergarten", "sms-notify": "sms_notify"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http(requests.Session):
    """requests with a deadline on every call."""

    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", 15)
        return super().request(*args, **kwargs)


class Proc:
    """One process, its output in a log file; ``url`` when it serves HTTP."""

    def __init__(self, argv: list[str], env: dict, log: Path, url: str | None = None):
        self.argv, self.env, self.log, self.url = argv, env, log, url
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def healthy(self) -> bool:
        if self.popen.poll() is not None:
            pytest.fail(f"{self.argv[-1]} exited:\n{self.output()[-3000:]}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_exit(self, timeout: float = 60) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def base_env(base: Path, mongo_url: str, service: str, **extra: str) -> dict:
    """What every service process gets: its database, a bus of its own, one gunicorn worker."""
    prom = base / f"prom-{service}"
    prom.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MONGO_URL": mongo_url,
        "MONGO_DATABASE": f"{PACKAGES[service]}_{uuid.uuid4().hex[:10]}",
        "AMQP_URL": "filesystem://",
        "BUS_DIR": str(base / "bus"),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "8",
        "PROMETHEUS_MULTIPROC_DIR": str(prom),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    env.pop("EDU_ENV", None)
    return env


def identity_env(base: Path, mongo_url: str, **extra: str) -> dict:
    """identity with keys, pepper and CA of its own under ``base``."""
    if not (base / "keys").exists():
        generate_key_file(base / "keys")
        devca.init_ca(base / "ca")
        (base / "pepper").write_text("test-pepper-" + uuid.uuid4().hex)
    return base_env(
        base,
        mongo_url,
        "identity",
        JWT_SIGNING_KEYS_DIR=str(base / "keys"),
        CODE_PEPPER_FILE=str(base / "pepper"),
        EDS_TRUSTED_CA_FILE=str(base / "ca" / "ca.pem"),
        POPULATION_REGISTRY_URL=str(POPULATION),
        **extra,
    )


def start_web(service: str, env: dict, log: Path, port: int | None = None) -> Proc:
    port = port or free_port()
    env = {**env, "PORT": str(port)}
    argv = [
        str(VENV_BIN / "gunicorn"),
        "--config",
        "python:edu_common.gunicorn_conf",
        f"{PACKAGES[service]}.app:create_app()",
    ]
    return Proc(argv, env, log, f"http://127.0.0.1:{port}")


def start_worker(service: str, env: dict, log: Path) -> Proc:
    return Proc([sys.executable, "-m", f"{PACKAGES[service]}.worker"], env, log)


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)
    return result


# --- people and their sign-up ------------------------------------------------------------
def adults(count: int, *, skip: set[str] = frozenset()) -> list[dict]:
    """People of the development population with a phone of their own, adults, citizens."""
    people = json.loads(POPULATION.read_text(encoding="utf-8"))["people"]
    chosen, phones = [], set()
    for p in people:
        if p["iin"] in skip or p.get("citizenship") != "KZ" or not p.get("phones"):
            continue
        if p["birth_date"] > "2005-01-01" or p["phones"][0] in phones:
            continue
        phones.add(p["phones"][0])
        chosen.append(p)
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"the development population has fewer than {count} such people")


def _code(identity_db, reg_id: str, purpose: str) -> str | None:
    """The newest code identity asked to deliver for this registration and purpose (read from
    identity's outbox: no relay runs, so nothing has been sent or removed yet)."""
    rows = identity_db.outbox.find({"routing_key": "identity.code.requested.v1"}).sort(
        "created_at", -1
    )
    for row in rows:
        data = row["body"]["data"]
        same = data["challenge_id"] == reg_id or data["challenge_id"].startswith(f"{reg_id}.")
        if same and data["purpose"] == purpose and data.get("code"):
            return data["code"]
    return None


def sign_up(http: requests.Session, url: str, identity_db, person: dict, password: str) -> str:
    """Every step of identity's registration as it answers them (``next_step``), codes
    included; answers the new account id. The one place that knows the steps: identity's
    registration is changing (the proof of the IIN), and this follows what it asks for."""
    email = f"{person['iin']}@example.kz"
    phone = person["phones"][0]
    r = http.post(f"{url}/registrations", json={"email": email, "language": "ru"})
    assert r.status_code == 201, r.text
    reg = r.json()["id"]
    at = f"{url}/registrations/{reg}"

    def code(purpose: str, resend: str, body: dict | None = None) -> str:
        found = _code(identity_db, reg, purpose)
        if found is None:
            sent = http.post(f"{at}/{resend}", json=body or {})
            assert sent.status_code in (200, 201, 202), sent.text
            found = _code(identity_db, reg, purpose)
        assert found, f"no {purpose} code for {reg}"
        return found

    step = r.json()["next_step"]
    for _ in range(12):
        if step == "email_confirmation":
            r = http.post(
                f"{at}/email/confirm", json={"code": code("email_confirmation", "email/code")}
            )
        elif step == "person":
            r = http.post(f"{at}/person", json={"iin": person["iin"]})
        elif step == "person_confirmation":
            proof = code("iin_confirmation", "person/code", {"phone_index": 0})
            r = http.post(f"{at}/person/confirm", json={"code": proof})
        elif step == "contacts":
            r = http.put(f"{at}/contacts", json={"phone": phone})
        elif step == "contacts_confirmation":
            r = http.post(
                f"{at}/contacts/confirm", json={"code": code("phone_confirmation", "contacts/code")}
            )
        elif step == "password":
            r = http.put(
                f"{at}/password", json={"password": password, "password_confirmation": password}
            )
        elif step == "complete":
            consents = {"personal_data": True, "notifications": True, "rules": True}
            r = http.post(f"{at}/complete", json={"consents": consents})
            assert r.status_code == 201, r.text
            return r.json()["account_id"]
        else:
            raise AssertionError(f"identity asks for a step this helper does not know: {step}")
        assert r.status_code == 200, f"{step}: {r.status_code} {r.text}"
        step = r.json()["next_step"]
    raise AssertionError("the registration did not complete")


def sign_in(http: requests.Session, url: str, iin: str, password: str) -> str:
    r = http.post(f"{url}/sessions", json={"iin": iin, "password": password})
    assert r.status_code == 201, r.text
    return r.json()["access_token"]
