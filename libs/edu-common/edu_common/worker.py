"""A service's worker process: consumes its bindings, relays its outbox, runs its sweeps."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.database import Database

from edu_common import consumer, logs, mongo, outbox
from edu_common.config import env, env_int
from edu_common.relay import Relay, make_publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A sweep run every `every` seconds (e.g. re-sending what a first attempt left behind)."""

    name: str
    every: float
    fn: Callable[[], None]


def _loop(p: Periodic, stop: threading.Event) -> None:
    while not stop.wait(p.every):
        try:
            p.fn()
        except Exception:
            log.exception("periodic task %s failed", p.name)


class _Health(BaseHTTPRequestHandler):
    alive: Callable[[], bool] = staticmethod(lambda: True)
    # Ready once its queues are declared and bound: events published from then on reach it.
    ready: Callable[[], bool] = staticmethod(lambda: True)

    def do_GET(self):
        if self.path == "/healthz":
            ok = self.alive()
            self._send(200 if ok else 503, b'{"status":"ok"}' if ok else b'{"status":"stalled"}')
        elif self.path == "/readyz":
            ok = self.ready()
            self._send(
                200 if ok else 503, b'{"status":"ready"}' if ok else b'{"status":"starting"}'
            )
        elif self.path == "/metrics":
            self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
        else:
            self._send(404, b'{"status":"not found"}')

    def _send(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # access lines for probes are noise
        pass


def run(
    *,
    service: str,
    db: Database,
    amqp_url: str,
    bindings: list[consumer.Binding],
    exchanges: Iterable[str],
    indexes: Iterable[mongo.Index] = (),
    periodic: Iterable[Periodic] = (),
) -> None:
    logs.configure(service, env("LOG_LEVEL", "INFO"))
    mongo.ensure_indexes(db, [*indexes, *outbox.INDEXES, *consumer.INDEXES])
    stop = threading.Event()
    threads: list[threading.Thread] = []

    publisher = make_publisher(amqp_url, exchanges)
    relay = Relay(db, publisher)
    threads.append(threading.Thread(target=relay.run, args=(stop,), name="relay", daemon=True))
    for p in periodic:
        threads.append(threading.Thread(target=_loop, args=(p, stop), name=p.name, daemon=True))

    worker = consumer.Worker(service, db, amqp_url, bindings) if bindings else None

    def alive() -> bool:
        threads_ok = all(t.is_alive() for t in threads)
        consumer_ok = worker is None or time.monotonic() - worker.last_tick < 120
        return threads_ok and consumer_ok

    port = env_int("WORKER_PORT", 9100)
    server = None
    if port:
        _Health.alive = staticmethod(alive)
        _Health.ready = staticmethod(lambda: worker is None or worker.ready.is_set())
        server = ThreadingHTTPServer(("0.0.0.0", port), _Health)  # noqa: S104 - probes
        threads.append(threading.Thread(target=server.serve_forever, name="health", daemon=True))

    def on_signal(signum, _frame):
        log.info("signal %s: stopping", signum)
        stop.set()
        if worker is not None:
            worker.should_stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for t in threads:
        t.start()
    log.info("worker started", extra={"bindings": [b.name for b in bindings]})
    try:
        if worker is not None:
            worker.run()
        else:
            stop.wait()
    finally:
        stop.set()
        if server is not None:
            server.shutdown()
        for t in threads:
            if t.name == "relay":
                t.join(timeout=5)
        publisher.stop()
        log.info("worker stopped")
