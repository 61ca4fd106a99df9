"""The kindergarten queue at size: reading an application with its queue number at 10,000 and
at 1,000,000 applications, and publishing 1,000 places over the 1,000,000 queue.

Applications are generated straight into the collections (not through the API), with the
queue structure (usecases/queues.py) built as registrations would have built it. Reads go
through the real app in-process (Flask test client), so they include the HTTP layer.

    .venv/bin/python -m bench.kindergarten [--small 10000] [--large 1000000] [--reads 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import uuid
from collections import defaultdict

import pymongo
from pymongo import monitoring

from bench.common import (
    BenchError,
    Row,
    background_load,
    markdown_table,
    percentile,
    secantus,
    workdir,
)
from edu_common import mongo
from edu_common.kz.iin import make_iin
from edu_common.testing import TokenMinter
from kindergarten import app as kg_app
from kindergarten import store
from kindergarten.domain import queue as q
from kindergarten.settings import Settings

NAME = "kindergarten"
DISTRICTS = 20
KG_PER_DISTRICT = 10
BIRTH_YEARS = list(range(2020, 2026))
CATEGORIES = [("general", 0.90), ("priority", 0.08), ("extraordinary", 0.02)]
DEPARTED = 0.05  # share of applications that already left their queue
NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in Almaty
BATCH = 20_000


class Counter(monitoring.CommandListener):
    """Database commands sent, to show a read costs the same number at any size."""

    def __init__(self):
        self.commands: dict[str, int] = defaultdict(int)

    def started(self, event):
        self.commands[event.command_name] += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def catalogue(db) -> list[dict]:
    groups = []
    for d in range(DISTRICTS):
        district = f"d{d:02d}"
        db[store.DISTRICTS].insert_one({"_id": district, "name": f"District {d:02d}"})
        for k in range(KG_PER_DISTRICT):
            kg = f"{district}-kg{k}"
            db[store.KINDERGARTENS].insert_one(
                {"_id": kg, "name": f"Kindergarten {kg}", "district_id": district,
                 "address": "-", "languages": ["kk", "ru"]}
            )  # fmt: skip
            for year in BIRTH_YEARS:
                for lang in ("kk", "ru"):
                    group = {"_id": f"{kg}-{year}-{lang}", "kindergarten_id": kg,
                             "district_id": district, "name": f"{year} {lang}",
                             "birth_year": year, "language": lang, "capacity": 100,
                             "teacher_ids": []}  # fmt: skip
                    groups.append(group)
    db[store.GROUPS].insert_many(groups)
    return groups


def _new_queue() -> dict:
    return {
        "counter": 0,
        "starts": {},
        "arrivals": defaultdict(list),
        "nets": defaultdict(int),
        "events": defaultdict(list),
    }


def generate(db, n: int, seed: int = 7) -> list[dict]:
    """n applications, their queue structure; returns a sample of active ones to read."""
    rnd = random.Random(seed)
    weights = [w for _, w in CATEGORIES]
    names = [c for c, _ in CATEGORIES]
    start = NOW - dt.timedelta(days=5 * 365)
    step = (NOW - start) / n
    queues: dict[str, dict] = {}
    sample: list[dict] = []
    docs: list[dict] = []

    def flush():
        if docs:
            db[store.APPLICATIONS].insert_many(docs, ordered=False)
            docs.clear()

    for i in range(n):
        district = f"d{rnd.randrange(DISTRICTS):02d}"
        year = rnd.choice(BIRTH_YEARS)
        category = rnd.choices(names, weights)[0]
        at = start + step * i
        ts = q.ts_of(at)
        key = q.queue_key(district, year, category)
        state = queues.setdefault(key, _new_queue())
        state["counter"] += 1
        base = state["counter"]
        block = q.block_of(base)
        state["starts"].setdefault(str(block), ts)
        state["arrivals"][block].append([base, ts])
        serial = i + 1
        birth = dt.date(year, 1 + serial % 12, 1 + serial % 28)
        app_id = uuid.UUID(int=rnd.getrandbits(128)).hex
        active = rnd.random() >= DEPARTED
        if not active:
            state["nets"][str(block)] -= 1
            state["events"][block].append({"k": [base, ts, app_id], "d": -1})
        kgs = rnd.sample(range(KG_PER_DISTRICT), rnd.randint(1, 4))
        doc = {
            "_id": app_id,
            "child_iin": make_iin(birth, "female", serial % 9000) + f"-{i}",
            "child_first_name": "Бала",
            "child_birth_date": birth.isoformat(),
            "birth_year": year,
            "parent_account_id": f"p{i}",
            "parent_iin": f"p{i}",
            "district_id": district,
            "kindergarten_ids": [f"{district}-kg{k}" for k in kgs],
            "language": rnd.choice(["kk", "ru"]),
            "category": category,
            "category_reason": None if category == "general" else "bench",
            "category_status": None if category == "general" else "confirmed",
            "queue_category": category,
            "queue_key": key,
            "base": base,
            "extra": False,
            "ts": ts,
            "registered_at": at,
            "status": "queued" if active else "closed",
            "active": active,
            "batch_id": None,
            "stop_until": None,
            "referral_id": None,
        }
        docs.append(doc)
        if active and rnd.random() < 0.01:
            sample.append({"_id": app_id, "parent": doc["parent_account_id"]})
        if len(docs) >= BATCH:
            flush()
    flush()
    structure = []
    for key, state in queues.items():
        structure.append({"_id": key, "counter": state["counter"], "starts": state["starts"],
                          "nets": dict(state["nets"])})  # fmt: skip
        for block, arrivals in state["arrivals"].items():
            structure.append({"_id": f"{q.block_id(key, block)}#a", "arrivals": arrivals})
        for block, events in state["events"].items():
            structure.append({"_id": q.block_id(key, block), "events": events})
    for i in range(0, len(structure), 2000):
        db[store.QUEUES].insert_many(structure[i : i + 2000])
    return sample


def build(url: str, database: str, n: int, log) -> tuple[object, list[dict], dict]:
    client = pymongo.MongoClient(url, tz_aware=True)
    db = client[database]
    t0 = time.perf_counter()
    catalogue(db)
    sample = generate(db, n)
    loaded = time.perf_counter() - t0
    t1 = time.perf_counter()
    mongo.ensure_indexes(db, kg_app.indexes())
    indexed = time.perf_counter() - t1
    log(f"{NAME}: {n} applications inserted in {loaded:.0f} s, indexes built in {indexed:.0f} s")
    client.close()
    return db, sample, {"load_s": loaded, "index_s": indexed}


def reads(url: str, sizes: dict[int, tuple[str, list[dict]]], count: int, clock) -> dict:
    """Reads at every size, interleaved one by one, so that other load on the machine falls on
    all sizes alike; with the database commands each read sent."""
    counter = Counter()
    monitoring.register(counter)  # applies to clients made from now on
    mongo._clients.pop(url, None)
    minter = TokenMinter()
    clients, picks = {}, {}
    rnd = random.Random(11)
    for n, (database, sample) in sizes.items():
        settings = Settings(mongo_url=url, database=database, amqp_url="amqp://unused/")
        app = kg_app.create_app(settings, verifier=minter.verifier, clock=clock)
        clients[n] = app.test_client()
        picks[n] = [rnd.choice(sample) for _ in range(count)]
    headers = {p["parent"]: minter.headers(p["parent"]) for ps in picks.values() for p in ps}

    def one(n: int, p: dict) -> float:
        t = time.perf_counter()
        resp = clients[n].get(f"/applications/{p['_id']}", headers=headers[p["parent"]])
        took = (time.perf_counter() - t) * 1000
        if resp.status_code != 200 or not resp.json["queue_number"]:
            raise BenchError(f"read failed: {resp.status_code} {resp.json}")
        return took

    for n in sizes:  # warm-up
        for p in picks[n][:50]:
            one(n, p)
    times: dict[int, list[float]] = {n: [] for n in sizes}
    commands: dict[int, int] = {}
    for n in sizes:  # commands per read, one size at a time
        counter.commands.clear()
        for p in picks[n][:100]:
            one(n, p)
        commands[n] = sum(counter.commands.values()) / 100
    for i in range(count):
        for n in sizes:
            times[n].append(one(n, picks[n][i]))
    out = {}
    for n, ts in times.items():
        ts.sort()
        out[n] = {"p50": percentile(ts, 50), "p99": percentile(ts, 99), "commands": commands[n]}
    return out


def publish(url: str, database: str, places: int, clock) -> dict:
    settings = Settings(mongo_url=url, database=database, amqp_url="amqp://unused/")
    minter = TokenMinter()
    app = kg_app.create_app(settings, verifier=minter.verifier, clock=clock)
    client = app.test_client()
    db = app.extensions["kindergarten"].db
    groups = list(db[store.GROUPS].find({"birth_year": {"$in": [2022, 2023, 2024]}}))
    rnd = random.Random(3)
    rnd.shuffle(groups)
    per_group = 10
    chosen = groups[: places // per_group]
    t0 = time.perf_counter()
    offered = 0
    for g in chosen:
        headers = minter.headers(
            "staff", roles=["kindergarten_staff"], organization_id=g["kindergarten_id"]
        )
        resp = client.post(
            f"/kindergartens/{g['kindergarten_id']}/groups/{g['_id']}/places",
            json={"count": per_group},
            headers=headers,
        )
        if resp.status_code != 201:
            raise BenchError(f"publish failed: {resp.status_code} {resp.json}")
        offered += resp.json["offered"]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "offered": offered, "places": per_group * len(chosen)}


def run(small: int = 10_000, large: int = 1_000_000, count: int = 2000, places: int = 1000,
        log=print) -> list[Row]:  # fmt: skip
    busy = background_load()
    if busy > 0.25:
        log(f"{NAME}: WARNING other work keeps {busy:.1f} cores busy: figures will be slow")
    clock = lambda: NOW  # noqa: E731 - the bench's fixed now
    built = {}
    with workdir(NAME) as base, secantus(base) as sdb:
        sizes = {}
        for n in (small, large):
            database = f"kg_{n}"
            _db, sample, built[n] = build(sdb.url, database, n, log)
            sizes[n] = (database, sample)
        results = reads(sdb.url, sizes, count, clock)
        for n, r in results.items():
            r.update(built[n])
            log(f"{NAME}: {n}: read p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms, "
                f"{r['commands']:.2f} database commands/read")  # fmt: skip
        pub = publish(sdb.url, f"kg_{large}", places, clock)
        log(f"{NAME}: {pub['offered']} referrals for {pub['places']} places in "
            f"{pub['seconds']:.1f} s")  # fmt: skip
    s, big = results[small], results[large]
    return [
        Row(NAME, "other work on the machine at the start", busy, "cores", "", "shared machine"),
        Row(NAME, f"load {large} applications (insert_many)", big["load_s"], "s"),
        Row(NAME, f"build indexes over {large}", big["index_s"], "s"),
        Row(NAME, f"GET /applications/{{id}} p50 at {small}", s["p50"], "ms"),
        Row(NAME, f"GET /applications/{{id}} p99 at {small}", s["p99"], "ms"),
        Row(
            NAME,
            f"GET /applications/{{id}} p50 at {large}",
            big["p50"],
            "ms",
            f"{big['p50'] / s['p50']:.2f}x",
            "goal <= 1.5x",
        ),
        Row(
            NAME,
            f"GET /applications/{{id}} p99 at {large}",
            big["p99"],
            "ms",
            f"{big['p99'] / s['p99']:.2f}x",
            "goal <= 1.5x",
        ),
        Row(
            NAME,
            "database commands per read",
            big["commands"],
            "",
            f"{s['commands']:.2f} at {small}",
            "the same at both sizes",
        ),
        Row(
            NAME,
            f"publish {pub['places']} places over {large}",
            pub["seconds"],
            "s",
            "",
            f"{pub['offered']} referrals offered; goal <= 10 s",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--places", type=int, default=1000)
    args = parser.parse_args(argv)
    rows = run(args.small, args.large, args.reads, args.places,
               log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
