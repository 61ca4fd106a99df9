"""Admission allocation at size: 200,000 accepted applications with 4 ranked choices over 3,000
offers with every quota, on the embedded MongoDB, through applicant's own use cases.

The timed run is what the worker does for a requested wave (``allocation.run_pending``): read the
accepted applications, allocate (deferred acceptance with quota reserves), write one placement
document per offer and finish the wave. Then, timed apart, announcing the wave: one outbox event
per application. Machine-independent figures beside the times: database commands sent and CPU
seconds of this process and of SecantusDB. The result is checked in the same run against two
independent implementations of the rule: the round-by-round reference
(services/applicant/tests/allocation_reference.py) on the whole instance, and the ``matching``
library's HospitalResident (resident-optimal) on a sample without quotas.

    .venv/bin/python -m bench.admission [--applications 200000] [--offers 3000] [--sample 3000]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pymongo
from matching.games import HospitalResident
from pymongo import monitoring

from applicant import app as applicant_app
from applicant import store
from applicant.domain import allocation as da
from applicant.domain import campaign as dates
from applicant.domain.quotas import CATEGORIES
from applicant.settings import Settings
from applicant.usecases import allocation, results
from bench.common import Row, background_load, cpu_seconds, markdown_table, secantus, workdir
from edu_common import mongo
from edu_common.web.auth import Principal
from services.applicant.tests.allocation_reference import reference_allocate

NAME = "admission"
CAMPAIGN = "bench-2026"
REGION = "bench-region"
NOW = dt.datetime(2026, 8, 21, 5, 0, tzinfo=dt.UTC)  # the day after the track closed
ACCEPTED_AT = dt.datetime(2026, 8, 1, 5, 0, tzinfo=dt.UTC)
# Share of applications claiming each quota (a claim whose proof was accepted).
CLAIM_RATES = {"disability": 0.01, "veteran_equated": 0.005, "orphan": 0.01, "kandas": 0.04,
               "rural": 0.25, "rural_resettlement": 0.05}  # fmt: skip
BATCH = 10_000


class Counter(monitoring.CommandListener):
    def __init__(self):
        self.commands: dict[str, int] = defaultdict(int)

    def started(self, event):
        self.commands[event.command_name] += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def generate(db, settings: Settings, n_apps: int, n_offers: int, seed: int = 11) -> None:
    rnd = random.Random(seed)
    tracks = dates.default_tracks(2026, settings.tracks)
    db[store.REGIONS].insert_one({"_id": REGION, "name_kk": "Облыс", "name_ru": "Область",
                                  "resettlement": True})  # fmt: skip
    db[store.CAMPAIGNS].insert_one({"_id": CAMPAIGN, "year": 2026, "region_id": REGION,
                                    "tracks": dates.to_storage(tracks)})  # fmt: skip
    offers = []
    for i in range(n_offers):
        seats = rnd.randint(20, 80)
        rural = rnd.random() < 0.3
        offers.append(
            {"_id": f"o{i:05d}", "campaign_id": CAMPAIGN, "region_id": REGION,
             "college_id": f"c{i // 10:04d}", "college_name_kk": "Колледж",
             "college_name_ru": "Колледж", "specialty_code": f"{1000000 + i % 150:07d}",
             "specialty_name_kk": "Мамандық", "specialty_name_ru": "Специальность",
             "language": "kk" if i % 2 else "ru", "study_form": "full_time",
             "base_education": dates.AFTER_9, "creative": False, "rural": rural,
             "state_order_seats": seats, "paid_seats": 10,
             "quota_seats": settings.quotas.seats(seats, rural, True)}
        )  # fmt: skip
    db[store.OFFERS].insert_many(offers)
    # Popularity: a few offers are wanted by many (cutoffs), most by some.
    weights = [1 / (1 + i) ** 0.6 for i in range(n_offers)]
    order = list(range(n_offers))
    rnd.shuffle(order)
    docs = []
    for j in range(n_apps):
        picks: list[int] = []
        while len(picks) < 4:
            k = order[rnd.choices(range(n_offers), weights)[0]]
            if k not in picks:
                picks.append(k)
        claims = [c for c, rate in CLAIM_RATES.items() if rnd.random() < rate]
        app_id = uuid.UUID(int=rnd.getrandbits(128)).hex
        iin = f"9{j:011d}"  # unique; no person is looked up here
        first = ACCEPTED_AT - dt.timedelta(seconds=j)
        docs.append(
            {"_id": app_id, "campaign_id": CAMPAIGN, "region_id": REGION, "year": 2026,
             "applicant_account_id": f"acc-{j}", "applicant_iin": iin,
             "base_education": dates.AFTER_9, "certificate_average": 0,
             "score": int(rnd.triangular(300, 500, 420)), "tie": f"{first:%Y%m%dT%H%M%S%f}",
             "choices": [{"offer_id": f"o{k:05d}", "college_id": f"c{k // 10:04d}",
                          "creative": False} for k in picks],
             "offer_ids": [f"o{k:05d}" for k in picks],
             "college_ids": list(dict.fromkeys(f"c{k // 10:04d}" for k in picks)),
             "quota_claims": claims, "passed_exams": [], "status": "accepted",
             "alloc": "",
             "active": True, "accepted_at": ACCEPTED_AT, "created_at": ACCEPTED_AT}
        )  # fmt: skip
        docs[-1]["alloc"] = results.allocation_key(docs[-1])
        if len(docs) >= BATCH:
            db[store.APPLICATIONS].insert_many(docs, ordered=False)
            docs.clear()
    if docs:
        db[store.APPLICATIONS].insert_many(docs, ordered=False)


def _peak_reset() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Timed:
    """Wraps a module function to add up the time spent in it."""

    def __init__(self, module, name: str):
        self.module, self.name = module, name
        self.inner = getattr(module, name)
        self.seconds = 0.0
        setattr(module, name, self)

    def __call__(self, *args, **kw):
        t = time.perf_counter()
        try:
            return self.inner(*args, **kw)
        finally:
            self.seconds += time.perf_counter() - t

    def restore(self) -> None:
        setattr(self.module, self.name, self.inner)


def matching_sample(offers: list[da.Offer], apps: list[da.Applicant], size: int, seed=5):
    """The same rule without quotas on a sample, by ours and by the matching library."""
    rnd = random.Random(seed)
    chosen = rnd.sample(apps, min(size, len(apps)))
    ids = {o for a in chosen for o in a.choices}
    plain = [da.Offer(o.id, max(1, o.seats // 20)) for o in offers if o.id in ids]
    people = [da.Applicant(a.id, a.score, a.tie, a.choices) for a in chosen]
    ours = {a: o for a, (o, _) in da.allocate(plain, people).placement.items()}
    ranked = da.ranking(people)
    hospital_prefs = {o.id: [] for o in plain}
    for a in ranked:
        for o in a.choices:
            hospital_prefs[o].append(a.id)
    # The library deep-copies players that refer to each other: deep recursion, so a big stack.
    box: dict = {}

    def solve() -> None:
        sys.setrecursionlimit(1_000_000)
        t = time.perf_counter()
        game = HospitalResident.create_from_dictionaries(
            {a.id: list(a.choices) for a in people},
            hospital_prefs,
            {o.id: o.seats for o in plain},
        )
        box["solved"] = game.solve(optimal="resident")
        box["seconds"] = time.perf_counter() - t

    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=solve)
    worker.start()
    worker.join()
    threading.stack_size(0)
    sys.setrecursionlimit(1000)
    solved, seconds = box["solved"], box["seconds"]
    theirs = {r.name: h.name for h, rs in solved.items() for r in rs}
    return ours == theirs, len(people), len(ours), seconds


def run(n_apps: int = 200_000, n_offers: int = 3_000, sample: int = 3_000, log=print) -> list[Row]:
    busy = background_load()
    if busy > 0.25:
        log(f"{NAME}: WARNING other work keeps {busy:.1f} cores busy: figures will be slow")
    with workdir(NAME) as base, secantus(base) as sdb:
        settings = Settings(mongo_url=sdb.url, database="applicant_bench", amqp_url="amqp://x/")
        setup = pymongo.MongoClient(sdb.url, tz_aware=True)
        t0 = time.perf_counter()
        generate(setup["applicant_bench"], settings, n_apps, n_offers)
        mongo.ensure_indexes(setup["applicant_bench"], applicant_app.indexes())
        log(f"{NAME}: {n_apps} applications, {n_offers} offers in {time.perf_counter() - t0:.0f} s")
        setup.close()

        counter = Counter()
        monitoring.register(counter)
        mongo._clients.pop(sdb.url, None)
        clock = lambda: NOW  # noqa: E731 - the bench's fixed now
        deps = applicant_app.build_deps(settings, clock=clock, registry=None)
        admin = Principal("bench-admin", frozenset({"admin"}), None, None, "t")
        allocation.request(deps, admin, CAMPAIGN, {"base_education": dates.AFTER_9})

        reading = Timed(allocation, "participants")
        solving = Timed(allocation.da, "allocate")
        counter.commands.clear()
        _peak_reset()
        before = (time.process_time(), cpu_seconds(sdb.pid))
        t = time.perf_counter()
        allocation.run_pending(deps)
        wall = time.perf_counter() - t
        cpu_ours = time.process_time() - before[0]
        cpu_db = cpu_seconds(sdb.pid) - before[1]
        peak = _peak_mib()
        commands = sum(counter.commands.values())
        reading.restore()
        solving.restore()
        run_doc = deps.db[store.RUNS].find_one({"campaign_id": CAMPAIGN})
        if run_doc["status"] != "done":
            raise RuntimeError(f"the wave did not finish: {run_doc['status']}")
        counts = run_doc["counts"]
        log(
            f"{NAME}: wave in {wall:.1f} s (read {reading.seconds:.1f} s, allocate "
            f"{solving.seconds:.1f} s), {commands} commands, peak {peak:.0f} MiB; {counts}"
        )

        # The same input again, from the database, for the reference implementations.
        offers = list(allocation.capacities(deps, list(deps.db[store.OFFERS].find())).values())
        apps = allocation.participants(deps, {**run_doc, "wave": 1}, set())
        placed = {}
        for doc in deps.db[store.PLACEMENTS].find({"run_id": run_doc["_id"]}):
            for a, pool in zip(doc["admitted"], doc["pools"], strict=True):
                placed[a] = (doc["offer_id"], pool)
        t = time.perf_counter()
        reference = reference_allocate(offers, apps)
        ref_seconds = time.perf_counter() - t
        agree = reference == placed
        log(f"{NAME}: reference (rounds) in {ref_seconds:.1f} s; agrees: {agree}")
        same, people, seated, lib_seconds = matching_sample(offers, apps, sample)
        log(f"{NAME}: matching.HospitalResident on {people}: agrees {same} ({lib_seconds:.1f} s)")
        quota_full = sum(1 for _, p in placed.values() if p in CATEGORIES)

        counter.commands.clear()
        before = (time.process_time(), cpu_seconds(sdb.pid))
        t = time.perf_counter()
        told = allocation.announce(deps)
        announce_wall = time.perf_counter() - t
        announce_cpu = time.process_time() - before[0] + cpu_seconds(sdb.pid) - before[1]
        announce_commands = sum(counter.commands.values())
        log(f"{NAME}: {told} events announced in {announce_wall:.1f} s")
    if not agree or not same:
        raise RuntimeError("the allocation disagrees with a reference implementation")
    return [
        Row(NAME, "other work on the machine at the start", busy, "cores", "", "shared machine"),
        Row(NAME, f"wave over {n_apps} applications x 4 choices, {n_offers} offers", wall, "s",
            f"{wall / 60:.2f}x goal", "read + allocate + write placements; goal < 60 s"),
        Row(NAME, "  of which reading the applications", reading.seconds, "s"),
        Row(NAME, "  of which allocating (deferred acceptance)", solving.seconds, "s"),
        Row(NAME, "  of which writing placements and the wave",
            wall - reading.seconds - solving.seconds, "s", "", f"{counts['offers']} documents"),
        Row(NAME, "database commands for the wave", commands, "", "",
            "machine-independent; batched reads and inserts"),
        Row(NAME, "CPU of the wave: this process", cpu_ours, "s"),
        Row(NAME, "CPU of the wave: SecantusDB", cpu_db, "s"),
        Row(NAME, "peak memory of the process during the wave", peak, "MiB"),
        Row(NAME, "seats given", counts["allocated"], "", "",
            f"{quota_full} in quota pools, {counts['not_allocated']} without a seat"),
        Row(NAME, "reference (round-by-round DA) on the whole instance", ref_seconds, "s",
            "agrees" if agree else "DISAGREES", "every placement and pool identical"),
        Row(NAME, f"matching.HospitalResident on {people} (no quotas)", lib_seconds, "s",
            "agrees" if same else "DISAGREES", f"{seated} placed; resident-optimal"),
        Row(NAME, "announce the wave (outbox events)", announce_wall, "s", "",
            f"{told} events, {announce_commands} commands, {announce_cpu:.0f} CPU s; by the "
            "worker after the wave"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--offers", type=int, default=3_000)
    parser.add_argument("--sample", type=int, default=3_000)
    args = parser.parse_args(argv)
    rows = run(args.applications, args.offers, args.sample,
               log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
