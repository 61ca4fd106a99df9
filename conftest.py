"""Test fixtures shared by every test folder: the embedded MongoDB-compatible server,
a RabbitMQ virtual host per test, and polling with a deadline."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pymongo
import pytest
import requests

ROOT = Path(__file__).resolve().parent
AMQP_HOST = os.environ.get("TEST_AMQP_HOST", "127.0.0.1")
AMQP_PORT = int(os.environ.get("TEST_AMQP_PORT", "5672"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = ""):
    """Poll predicate until it returns something truthy; fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message or predicate}")
        time.sleep(interval)


@pytest.fixture
def unused_port() -> int:
    """A port nobody listens on (for a provider or broker that is down)."""
    return free_port()


@pytest.fixture(name="wait_until")
def _wait_until():
    return wait_until


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def mongo_url():
    """URL of a MongoDB-wire server: TEST_MONGO_URL, or SecantusDB started for this session."""
    if os.environ.get("TEST_MONGO_URL"):
        yield os.environ["TEST_MONGO_URL"]
        return
    binary = os.environ.get("SECANTUS_BIN") or str(ROOT / ".venv-db" / "bin" / "secantusd-py")
    if not Path(binary).exists():
        pytest.fail(f"SecantusDB not installed at {binary}: run `make install`")
    port = free_port()
    data = tempfile.mkdtemp(prefix="secantus-")
    log = open(Path(data) / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--storage-path", str(Path(data) / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: _port_open("127.0.0.1", port), timeout=60, message="SecantusDB")
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def mongo_client(mongo_url):
    client = pymongo.MongoClient(mongo_url, tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def mongo_db(mongo_client):
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield mongo_client[name]
    mongo_client.drop_database(name)


_CTL_LOCK = Path(tempfile.gettempdir()) / "edu-rabbitmqctl.lock"


def _rabbitmqctl(*args: str, attempts: int = 3, timeout: float = 60) -> bool:
    """One rabbitmqctl at a time on this machine, retried, and killed whole when stuck.

    Each call starts an Erlang node that takes one of a few distribution ports; several test
    runs calling it at once can exhaust them. rabbitmqctl re-runs itself through `su` in a new
    session, so a stuck call is found by its arguments (a vhost name is unique) and killed.
    """
    err = b""
    with open(_CTL_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for attempt in range(attempts):
            proc = subprocess.Popen(
                ["rabbitmqctl", "-q", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            try:
                _out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                vhosts = [a for a in args if a.startswith("edu-test-")]
                if vhosts:  # never a pattern such as ".*": only our unique vhost name
                    subprocess.run(["pkill", "-9", "-f", vhosts[0]], check=False)
                proc.kill()
                proc.communicate()
                err = b"timed out"
            if proc.returncode == 0:
                return True
            time.sleep(0.5 * (attempt + 1))
    if attempts > 1:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {err.decode(errors='replace')}")
    return False


_doomed_vhosts: list[str] = []


@pytest.fixture(scope="session")
def broker():
    """RabbitMQ must answer: a missing broker fails the run, it is never skipped."""
    if not _port_open(AMQP_HOST, AMQP_PORT):
        pytest.fail(
            f"RabbitMQ is not answering on {AMQP_HOST}:{AMQP_PORT}; "
            "start it (`rabbitmq-server -detached`)"
        )
    yield
    # Best effort and bounded: a broker slow to delete must not hold the run's end.
    for vhost in _doomed_vhosts:
        if not _rabbitmqctl("delete_vhost", vhost, attempts=1, timeout=20):
            break


@pytest.fixture
def amqp_url(broker):
    """A fresh virtual host for one test, so tests never see each other's queues."""
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("rabbitmqctl is needed to make a test virtual host")
    vhost = f"edu-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    _doomed_vhosts.append(vhost)
    return f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/{quote(vhost, safe='')}"


class TcpProxy:
    """A TCP relay we can cut and restore: the broker 'goes down' without touching RabbitMQ."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(64)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()
        return self

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self._server.close()
            self._server = None
        with self._lock:
            for c in self._conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
            self._conns.clear()


@pytest.fixture
def tcp_proxy():
    proxies: list[TcpProxy] = []

    def make(host: str = AMQP_HOST, port: int = AMQP_PORT) -> TcpProxy:
        proxy = TcpProxy(host, port).start()
        proxies.append(proxy)
        return proxy

    yield make
    for p in proxies:
        p.stop()


class Inbox:
    """The dev inbox as its own process: SMTP and an SMSC.kz-shaped HTTP API."""

    def __init__(self, log_path: Path):
        self.http_port, self.smtp_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.smsc_url = f"{self.url}/sys/send.php"
        command = [
            sys.executable, "-m", "dev.inbox", "--host", "127.0.0.1",
            "--http-port", str(self.http_port), "--smtp-port", str(self.smtp_port),
        ]  # fmt: skip
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"dev inbox exited:\n{self.log_path.read_text()}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def messages(self, to: str) -> list[dict]:
        answer = requests.get(f"{self.url}/messages", params={"to": to}, timeout=5)
        answer.raise_for_status()
        return answer.json()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def inbox(tmp_path, wait_until):
    box = Inbox(tmp_path / "inbox.log")
    try:
        wait_until(box.healthy, timeout=20, message="dev inbox")
        yield box
    finally:
        box.stop()


sys.path.insert(0, str(ROOT))
