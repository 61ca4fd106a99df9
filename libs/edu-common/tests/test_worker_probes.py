"""A worker process answers /healthz at once and /readyz once its queues are bound."""

from __future__ import annotations

import subprocess
import sys

import pika
import pytest
import requests

pytestmark = pytest.mark.integration

PROGRAM = """
import sys
from edu_common import accounts, mongo, worker
worker.run(
    service="probesvc",
    db=mongo.database(sys.argv[1], "probe_worker"),
    amqp_url=sys.argv[2],
    bindings=[accounts.binding()],
    exchanges=[],
)
"""


def status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=1).status_code
    except requests.RequestException:
        return None


def queue_bound(amqp_url: str) -> bool:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        conn.channel().queue_declare("probesvc.accounts", passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if conn.is_open:
            conn.close()


def test_ready_only_once_its_queues_exist(mongo_url, amqp_url, wait_until, unused_port):
    port = unused_port
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, mongo_url, amqp_url],
        env={"WORKER_PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: status(f"http://127.0.0.1:{port}/readyz") == 200, message="ready")
        assert queue_bound(amqp_url)
        assert status(f"http://127.0.0.1:{port}/healthz") == 200
        assert status(f"http://127.0.0.1:{port}/nothing") == 404
    finally:
        proc.terminate()
        proc.wait(timeout=15)
