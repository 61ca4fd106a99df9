"""RabbitMQ topology and connections, and the filesystem stand-in for a machine without a broker."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from kombu import Connection, Exchange, Queue, binding

QUORUM = {"x-queue-type": "quorum"}


def is_amqp(url: str) -> bool:
    return urlparse(url).scheme in {"amqp", "amqps", "pyamqp"}


def broker_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a TCP connection to the broker opens (cheap enough for /readyz)."""
    if not is_amqp(url):
        return Path(filesystem_dir()).is_dir()
    parsed = urlparse(url)
    port = parsed.port or (5671 if parsed.scheme == "amqps" else 5672)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def filesystem_dir() -> str:
    return os.environ.get("BUS_DIR", ".data/bus")


def connection(url: str, *, confirm_publish: bool = True) -> Connection:
    if is_amqp(url):
        return Connection(
            url,
            heartbeat=30,
            connect_timeout=5,
            transport_options={"confirm_publish": confirm_publish},
        )
    root = Path(filesystem_dir())
    for sub in ("queues", "control", "processed"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport_options={
            "data_folder_in": str(root / "queues"),
            "data_folder_out": str(root / "queues"),
            "control_folder": str(root / "control"),
            "processed_folder": str(root / "processed"),
            "store_processed": False,
        },
    )


def topic_exchange(name: str) -> Exchange:
    return Exchange(name, type="topic", durable=True)


def consumer_queue(name: str, bindings: list[tuple[str, str]], *, amqp: bool) -> Queue:
    """A durable quorum queue bound to (exchange, routing key) pairs."""
    return Queue(
        name,
        bindings=[binding(topic_exchange(ex), routing_key=rk) for ex, rk in bindings],
        durable=True,
        queue_arguments=QUORUM if amqp else None,
    )


def retry_queue(main: str) -> Queue:
    """Holds a failed message for its back-off (per-message TTL), then dead-letters it home."""
    return Queue(
        f"{main}.retry",
        durable=True,
        queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": main},
    )


def dead_queue(main: str, *, amqp: bool, ttl_seconds: int | None = None) -> Queue:
    if not amqp:
        return Queue(f"{main}.dead", durable=True)
    arguments = dict(QUORUM)
    if ttl_seconds:
        arguments["x-message-ttl"] = ttl_seconds * 1000
    return Queue(f"{main}.dead", durable=True, queue_arguments=arguments)
