"""sms-notify throughput: kindergarten events published -> SMS in the dev inbox, per second,
with one worker process and then with two.

Each event is a queue move for one of many parents (so no per-phone limit interferes); every
worker consumes it, stores the message, and sends it to the dev inbox's SMSC endpoint.

    .venv/bin/python -m bench.notify [--events 1000] [--parents 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import pika
import pymongo
import requests

from bench.common import (
    ROOT,
    BenchError,
    CpuMeter,
    Row,
    background_load,
    free_port,
    markdown_table,
    pids_named,
    rabbit_vhost,
    secantus,
    stop,
    tail,
    wait_for_port,
    workdir,
)
from edu_common import accounts, testing
from sms_notify import events, store

NAME = "notify"


def parent_id(i: int) -> str:
    return f"bench-parent-{i}"


def phone(i: int) -> str:
    return f"+7701{i:07d}"


def seed(db, parents: int) -> None:
    db[accounts.ACCOUNTS].insert_many(
        [
            {
                "_id": parent_id(i), "revision": 1, "iin": None, "full_name": "Bench Parent",
                "roles": ["citizen"], "organization_id": None, "phone": phone(i),
                "email": None, "language": "kk" if i % 2 else "ru", "active": True,
                "notifications_consent": True,
            }
            for i in range(parents)
        ]
    )  # fmt: skip
    # Whatever the hour in Almaty, nothing is held for the morning.
    db[store.PREFERENCES].insert_many(
        [{"_id": parent_id(i), "quiet_hours": {"enabled": False}} for i in range(parents)]
    )


def envelope(i: int, parents: int) -> dict:
    return testing.envelope(
        events.KG_QUEUE_CHANGED,
        {
            "application_id": f"app-{i}", "parent_account_id": parent_id(i % parents),
            "child_iin_masked": "********2034", "child_first_name": "Әлихан",
            "district_id": "d-1", "queue_number": 100 - i % 50, "previous_queue_number": 120,
        },
    )  # fmt: skip


def publish(url: str, bodies: list[dict]) -> None:
    testing.publish(url, events.KG_QUEUE_CHANGED, *bodies)


class DevInbox:
    def __init__(self, base):
        self.http, self.smtp = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http}"
        self.log = base / "inbox.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dev.inbox", "--http-port", str(self.http),
                 "--smtp-port", str(self.smtp)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.http, self.proc, 30, self.log)

    def count(self) -> int:
        return len(requests.get(f"{self.url}/messages", timeout=30).json())

    def clear(self) -> None:
        requests.delete(f"{self.url}/messages", timeout=10).raise_for_status()


def start_workers(n: int, base, env: dict) -> list[subprocess.Popen]:
    procs = []
    for k in range(n):
        log = base / f"worker-{n}-{k}.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "sms_notify.worker"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


QUEUE = "sms-notify.notifications"


def consumers(url: str) -> int:
    """How many workers consume the queue (0 while it is not declared yet)."""
    try:
        connection = pika.BlockingConnection(pika.URLParameters(url))
    except pika.exceptions.AMQPConnectionError:
        return 0  # a busy broker: asked again
    try:
        return connection.channel().queue_declare(QUEUE, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        if connection.is_open:
            connection.close()


def wait(predicate, timeout: float, what: str, procs=(), every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise BenchError(f"a worker exited while waiting for {what}")
        if predicate():
            return
        time.sleep(every)
    raise BenchError(f"timed out waiting for {what}")


def measure(workers: int, n: int, parents: int, sdb, url, inbox, base, log) -> Row:
    database = f"bench_notify_{workers}"
    client = pymongo.MongoClient(sdb.url, tz_aware=True)
    seed(client[database], parents)
    env = {
        **os.environ,
        "MONGO_URL": sdb.url,
        "MONGO_DATABASE": database,
        "AMQP_URL": url,
        "SMSC_URL": f"{inbox.url}/sys/send.php",
        "MOBIZON_URL": inbox.url,
        "SMTP_PORT": str(inbox.smtp),
        "WORKER_PORT": "0",
        "LOG_LEVEL": "WARNING",
        "LIMIT_SMS_PER_DAY": "1000000",
    }
    inbox.clear()
    procs = start_workers(workers, base, env)
    try:
        wait(lambda: consumers(url) >= workers, 120, "the workers to consume", procs)
        # A few warm-up events: connections, caches and indexes are in use before timing.
        publish(url, [envelope(i, parents) for i in range(workers * 5)])
        wait(lambda: inbox.count() >= workers * 5, 120, "the warm-up SMS", procs)
        inbox.clear()
        bodies = [envelope(i, parents) for i in range(n)]
        parties = {"workers": [p.pid for p in procs], "database": [sdb.pid],
                   "broker": pids_named("beam.smp")}  # fmt: skip
        with CpuMeter(parties) as meter:
            start = time.perf_counter()
            publish(url, bodies)
            wait(lambda: inbox.count() >= n, 600, f"{n} SMS in the inbox", procs, 0.2)
            elapsed = time.perf_counter() - start
        messages = client[database][store.MESSAGES]

        def recorded() -> bool:  # the inbox may see an SMS just before its status is written
            done = {"status": {"$in": ["sent", "delivered"]}}  # the status poll may run
            return messages.count_documents(done) >= n + workers * 5

        try:
            wait(recorded, 120, "every message recorded as sent", procs, 0.5)
        except BenchError:
            counts = list(messages.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}]))
            raise BenchError(f"not all recorded as sent: {counts}") from None
        rate = n / elapsed
        cpu = ", ".join(f"{k} {v / meter.seconds:.2f}" for k, v in meter.used.items())
        log(f"notify: {workers} worker(s): {n} events -> SMS in {elapsed:.1f}s = {rate:.0f}/s "
            f"(cores busy: {cpu}; other load {meter.others:.2f})")  # fmt: skip
        return Row(
            NAME,
            f"events -> SMS in the dev inbox, {workers} worker{'s' if workers > 1 else ''}",
            rate,
            "msg/s",
            note=f"{n} events; cores: {cpu}",
        )
    except BenchError:
        for p in procs:
            log(tail(base / f"worker-{workers}-{procs.index(p)}.log"))
        raise
    finally:
        for p in procs:
            stop(p)
        client.close()


def run(n: int = 1000, parents: int = 200, log=print) -> list[Row]:
    busy = background_load()
    if busy > 0.25:
        log(f"notify: WARNING other work keeps {busy:.1f} cores busy: figures will be low")
    rows: list[Row] = []
    with workdir(NAME) as base, secantus(base) as sdb, rabbit_vhost(NAME) as url:
        inbox = DevInbox(base)
        try:
            one = measure(1, n, parents, sdb, url, inbox, base, log)
            two = measure(2, n, parents, sdb, url, inbox, base, log)
        finally:
            stop(inbox.proc)
        rows.append(one)
        rows.append(
            Row(two.bench, two.measure, two.value, two.unit, f"{two.value / one.value:.2f}x",
                two.note)
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--parents", type=int, default=200)
    args = parser.parse_args(argv)
    print(markdown_table(run(args.events, args.parents)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
