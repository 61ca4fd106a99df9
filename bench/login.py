"""Password login throughput of identity against the bare argon2id verification rate.

POST /sessions through the real app under gunicorn; two cores' hash rate is its ceiling.

    .venv/bin/python -m bench.login [--seconds 20] [--threads 8] [--accounts 64] [--filler 2000]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pymongo
import requests

from bench.common import (
    ROOT,
    VENV_BIN,
    BenchError,
    CpuMeter,
    Row,
    background_load,
    children,
    free_port,
    markdown_table,
    percentile,
    rabbit_vhost,
    secantus,
    stop,
    tail,
    wait_for_port,
    workdir,
)
from edu_common import mongo
from identity import store
from identity.domain import roles
from identity.domain.passwords import PasswordHasher
from identity.tokens import generate_key_file
from identity.usecases.staff import _account_doc

NAME = "login"
PASSWORD = "Bench-Pass-2025"  # noqa: S105 - the benchmark accounts' password
POPULATION = ROOT / "dev" / "population.json"
HASH_SECONDS = 2.0


# --- (a) the bare hash rate ---------------------------------------------------------------
def _verify_until(encoded: str, start_at: float, seconds: float) -> tuple[int, float]:
    """Verifications done in the window, and the CPU seconds they took."""
    hasher = PasswordHasher()  # its one-off dummy hash is made before the clock starts
    while time.time() < start_at:
        time.sleep(0.001)
    cpu = time.thread_time()
    done = 0
    while time.time() < start_at + seconds:
        if not hasher.verify(encoded, PASSWORD):
            raise BenchError("the benchmark hash does not verify")
        done += 1
    return done, time.thread_time() - cpu


@dataclass(frozen=True)
class HashRate:
    per_second: float  # wall clock: lowered by any other load on the machine
    cpu_ms: float  # CPU per verification: what other load does not change


def hash_rate(encoded: str, workers: int, kind: str, seconds: float = HASH_SECONDS) -> HashRate:
    """Verifications per second by `workers` threads or processes running at the same time."""
    start_at = time.time() + (0.3 if kind == "thread" else 1.0)
    if kind == "thread":
        pool = concurrent.futures.ThreadPoolExecutor(workers)
    else:
        # fork: the children start at once, with everything already imported.
        pool = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("fork")
        )
    with pool:
        jobs = [pool.submit(_verify_until, encoded, start_at, seconds) for _ in range(workers)]
        results = [j.result() for j in jobs]
    done = sum(n for n, _ in results)
    return HashRate(done / seconds, 1000 * sum(c for _, c in results) / max(1, done))


# --- accounts -----------------------------------------------------------------------------
def people(count: int) -> list[dict]:
    found = json.loads(POPULATION.read_text(encoding="utf-8"))["people"]
    adults = [p for p in found if p["birth_date"] < "2006-01-01" and p.get("phones")]
    if len(adults) < count:
        raise BenchError(f"the development population has only {len(adults)} adults with phones")
    return adults[:count]


def _deps_now():
    # _account_doc only asks its deps for the time.
    return SimpleNamespace(now=lambda: dt.datetime.now(dt.UTC))


def account_docs(persons: list[dict], hasher: PasswordHasher) -> list[dict]:
    """Citizens' accounts as identity stores them, each with its own real argon2id hash."""
    docs = []
    for i, p in enumerate(persons):
        record = {
            "iin": p["iin"],
            "surname": p["surname"],
            "name": p["name"],
            "patronymic": p.get("patronymic"),
            "birth_date": p["birth_date"],
            "sex": p["sex"],
            "citizenship": p["citizenship"],
            "source": "registry",
        }
        docs.append(
            _account_doc(
                _deps_now(),
                iin=p["iin"],
                email=f"bench{i}@example.kz",
                phone=p["phones"][0],
                roles=[roles.CITIZEN],
                organization_id=None,
                person=record,
                origin="self",
                password_hash=hasher.hash(PASSWORD),
                must_change=False,
            )
        )
    return docs


def filler_docs(count: int, taken: set[str], encoded: str) -> list[dict]:
    """Accounts nobody signs in to: they only make the collection the size of a real one."""
    docs = []
    serial = 0
    while len(docs) < count:
        iin = f"99{serial:010d}"
        serial += 1
        if iin in taken:
            continue
        docs.append(
            store.without_missing_keys(
                _account_doc(
                    _deps_now(),
                    iin=iin,
                    email=None,
                    phone=None,
                    roles=[roles.CITIZEN],
                    organization_id=None,
                    person=None,
                    origin="self",
                    password_hash=encoded,
                    must_change=False,
                )
            )
        )
    return docs


# --- (b) the real app under gunicorn --------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    log: Path

    def workers(self) -> list[int]:
        return children(self.proc.pid)


def start_gunicorn(base: Path, mongo_url: str, database: str, amqp_url: str) -> Server:
    keys = base / "keys"
    generate_key_file(keys)
    (base / "prom").mkdir()
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOOTSTRAP_ADMIN_", "WEB_", "PROMETHEUS_"))
    }
    env.update(
        MONGO_URL=mongo_url,
        MONGO_DATABASE=database,
        JWT_SIGNING_KEYS_DIR=str(keys),
        POPULATION_REGISTRY_URL=str(POPULATION),
        PORT=str(port),
        WEB_CONCURRENCY="2",
        AMQP_URL=amqp_url,
        # Inside our work dir, so it goes when we do (gunicorn_conf would make one in /tmp).
        PROMETHEUS_MULTIPROC_DIR=str(base / "prom"),
    )
    log = base / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "python:edu_common.gunicorn_conf",
                "identity.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_for_port(port, proc, 60, log)
        deadline = time.monotonic() + 60
        # Both workers must be up; each one answers /healthz once its app is built.
        while len(server.workers()) < 2 or not _healthy(server.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"identity did not start:\n{tail(log)}")
            time.sleep(0.1)
    except BaseException:
        stop(proc)
        raise
    return server


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@dataclass
class Load:
    ok: int
    failed: int
    statuses: dict[int, int]
    seconds: float
    latencies_ms: list[float]
    cpu: dict[str, float]  # CPU seconds used in the measured window, per party
    others: float  # cores kept busy by processes outside the benchmark (should be ~0)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def cpu_ms_per_login(self, who: str) -> float:
        return 1000 * self.cpu[who] / max(1, self.ok)


def drive(
    server: Server,
    creds: list[tuple[str, str]],
    threads: int,
    seconds: float,
    db_pid: int,
    warmup: float = 2.0,
) -> Load:
    """`threads` clients with keep-alive sessions, each cycling through its own accounts."""
    stop_event = threading.Event()
    samples: list[list[tuple[float, float, int]]] = [[] for _ in range(threads)]

    def client(i: int) -> None:
        mine = creds[i::threads]
        with requests.Session() as session:
            k = 0
            while not stop_event.is_set():
                iin, password = mine[k % len(mine)]
                k += 1
                start = time.perf_counter()
                try:
                    r = session.post(
                        f"{server.url}/sessions",
                        json={"iin": iin, "password": password},
                        timeout=30,
                    )
                    status = r.status_code
                    if status == 201 and "access_token" not in r.json():
                        status = -1
                except requests.RequestException:
                    status = 0
                samples[i].append((start, time.perf_counter(), status))

    pool = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
    for t in pool:
        t.start()
    time.sleep(warmup)
    parties = {"workers": server.workers(), "database": [db_pid], "client": [os.getpid()]}
    with CpuMeter(parties) as meter:
        window_start = time.perf_counter()
        time.sleep(seconds)
        window_end = time.perf_counter()
    stop_event.set()
    for t in pool:
        t.join(timeout=35)
    in_window = [s for per in samples for s in per if s[0] >= window_start and s[1] <= window_end]
    statuses: dict[int, int] = {}
    for _, _, status in in_window:
        statuses[status] = statuses.get(status, 0) + 1
    ok = statuses.get(201, 0)
    return Load(
        ok=ok,
        failed=len(in_window) - ok,
        statuses=statuses,
        seconds=window_end - window_start,
        latencies_ms=sorted(1000 * (e - s) for s, e, st in in_window if st == 201),
        cpu=meter.used,
        others=meter.others,
    )


def lookup_plan(db, iin: str) -> str:
    plan = db[store.ACCOUNTS].find({"iin": iin}).explain()["queryPlanner"]["winningPlan"]
    while "inputStage" in plan and plan.get("stage") != "IXSCAN":
        plan = plan["inputStage"]
    return plan.get("stage", "?") + (f" {plan['indexName']}" if "indexName" in plan else "")


def run(
    seconds: float = 20,
    threads: int = 8,
    accounts: int = 64,
    filler: int = 2000,
    log=print,
) -> list[Row]:
    busy = background_load()
    if busy > 0.25:
        log(f"login: WARNING other work keeps {busy:.1f} cores busy: figures will be low")
    hasher = PasswordHasher()
    encoded = hasher.hash(PASSWORD)
    # Measured first, while this process has no other threads and nothing else is started.
    one_thread = hash_rate(encoded, 1, "thread")
    two_threads = hash_rate(encoded, 2, "thread")
    two_procs = hash_rate(encoded, 2, "process")
    log(
        f"login: argon2id verify {one_thread.per_second:.1f}/s on 1 thread, "
        f"{two_threads.per_second:.1f}/s on 2 threads, {two_procs.per_second:.1f}/s on 2 "
        f"processes, {one_thread.cpu_ms:.1f} ms CPU each"
    )
    ceiling = two_procs.per_second  # gunicorn runs two worker processes on two cores

    persons = people(accounts)
    docs = account_docs(persons, hasher)
    creds = [(p["iin"], PASSWORD) for p in persons]
    filled = None
    with workdir(NAME) as base, secantus(base) as sdb, rabbit_vhost(NAME) as amqp_url:
        client = pymongo.MongoClient(sdb.url, tz_aware=True)
        try:
            db = client["identity_bench"]
            mongo.ensure_indexes(db, store.INDEXES)
            db[store.ACCOUNTS].insert_many(docs)
            server = start_gunicorn(base, sdb.url, db.name, amqp_url)
            try:
                main = drive(server, creds, threads, seconds, sdb.pid)
                log(f"login: {main.rate:.1f} logins/s, p50 {main.p(50):.0f} ms ({main.statuses})")
                alone = drive(server, creds, 1, 4, sdb.pid, warmup=0.5)
                log(f"login: one client {alone.rate:.1f} logins/s, p50 {alone.p(50):.0f} ms")
                plan = lookup_plan(db, creds[0][0])
                if filler:
                    taken = {p["iin"] for p in persons}
                    db[store.ACCOUNTS].insert_many(filler_docs(filler, taken, encoded))
                    filled = drive(server, creds, threads, max(4.0, seconds * 0.3), sdb.pid, 1.0)
                    log(
                        f"login: with {filler} more accounts {filled.rate:.1f} logins/s, "
                        f"p50 {filled.p(50):.0f} ms ({filled.statuses})"
                    )
            finally:
                stop(server.proc)
        finally:
            client.close()

    for load in (main, alone, filled):
        if load is not None and (load.failed or not load.ok):
            raise BenchError(f"logins failed: statuses {load.statuses}")

    argon_ms = two_procs.cpu_ms
    total_ms = sum(main.cpu_ms_per_login(who) for who in main.cpu)
    cores = len(os.sched_getaffinity(0))
    rows = [
        Row(
            NAME,
            "(a) argon2id verify, 1 thread",
            one_thread.per_second,
            "verify/s",
            "",
            f"{one_thread.cpu_ms:.1f} ms CPU each; m=19 MiB, t=2, p=1; "
            f"other load before start {busy:.1f} cores",
        ),
        Row(
            NAME,
            "(a) argon2id verify, 2 threads",
            two_threads.per_second,
            "verify/s",
            "",
            "argon2-cffi releases the GIL",
        ),
        Row(
            NAME,
            "(a) argon2id verify, 2 processes",
            two_procs.per_second,
            "verify/s",
            "1.00x (ceiling)",
            f"the expected ceiling; from CPU time {cores} cores would give "
            f"{cores * 1000 / argon_ms:.0f}/s",
        ),
        Row(
            NAME,
            f"(b) POST /sessions, gunicorn 2x4 gthread, {threads} client threads",
            main.rate,
            "logins/s",
            f"{main.rate / ceiling:.2f}x ceiling",
            f"{accounts} accounts, {main.ok} logins in {main.seconds:.0f} s, 0 errors; "
            f"other processes {main.others:.1f} cores",
        ),
        Row(
            NAME,
            "(b) CPU per login, all parties",
            total_ms,
            "ms",
            f"argon2 {argon_ms / total_ms:.2f} of it",
            f"workers {main.cpu_ms_per_login('workers'):.0f} ms (argon2 {argon_ms:.0f}), "
            f"SecantusDB {main.cpu_ms_per_login('database'):.0f} ms, "
            f"load generator {main.cpu_ms_per_login('client'):.0f} ms; "
            f"{cores} cores / this = {cores * 1000 / total_ms:.0f} logins/s",
        ),
        Row(NAME, "(b) POST /sessions latency p50", main.p(50), "ms", "", ""),
        Row(NAME, "(b) POST /sessions latency p99", main.p(99), "ms", "", ""),
        Row(
            NAME,
            "(b) POST /sessions latency p50, one client thread",
            alone.p(50),
            "ms",
            "",
            f"{alone.rate:.1f} logins/s; under load the rest is queueing",
        ),
    ]
    if filled is not None:
        rows.append(
            Row(
                NAME,
                f"(c) POST /sessions with {filler:,} more accounts stored",
                filled.rate,
                "logins/s",
                f"{filled.rate / ceiling:.2f}x ceiling",
                f"p50 {filled.p(50):.0f} ms; account lookup by IIN is a {plan}, "
                f"SecantusDB {filled.cpu_ms_per_login('database'):.0f} ms CPU per login",
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured load time")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients")
    parser.add_argument("--accounts", type=int, default=64, help="distinct accounts logging in")
    parser.add_argument(
        "--filler", type=int, default=2000, help="extra stored accounts for (c); 0 skips it"
    )
    args = parser.parse_args(argv)
    rows = run(
        args.seconds,
        args.threads,
        args.accounts,
        args.filler,
        log=lambda m: print(m, file=sys.stderr),
    )
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
