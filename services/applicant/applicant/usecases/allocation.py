"""Allocation waves: an admin or the region's officer asks for one after a track closes; the
worker runs it (read the accepted applications, deferred acceptance, write one placement
document per offer) and then announces the results as events, a batch per transaction.

Why placements live in their own documents and events follow in a second step:
docs/decisions/0013-allocation.md (at 200,000 applications, one update per application is the
slowest thing the embedded database does).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from marshmallow import ValidationError
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from applicant import events, store
from applicant.deps import Deps
from applicant.domain import allocation as da
from applicant.domain import campaign as dates
from applicant.domain import lifecycle as lc
from applicant.domain.quotas import CATEGORIES, GENERAL, pool_at
from applicant.domain.scores import from_hundredths
from applicant.usecases import common, enrolment, results
from edu_common import context, mongo, outbox, paging
from edu_common.envelope import Envelope, EventType
from edu_common.web.auth import Principal
from edu_common.web.problems import Problem

log = logging.getLogger(__name__)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", results.DONE, "failed"
INSERT_BATCH = 500
READ_BATCH = 20_000
STALE = dt.timedelta(minutes=30)  # a running wave not finished by then is started again
ANNOUNCE_FIELDS = {
    "applicant_account_id": 1, "applicant_iin": 1, "campaign_id": 1, "region_id": 1, "year": 1,
    "base_education": 1, "score": 1, "offer_ids": 1, "quota_claims": 1, "accepted_at": 1,
}  # fmt: skip
PARTICIPANT_FIELDS = {"alloc": 1}


def run_view(run: dict) -> dict:
    return {
        "id": run["_id"],
        "campaign_id": run["campaign_id"],
        "base_education": run["base_education"],
        "wave": run["wave"],
        "status": run["status"],
        "requested_at": run["requested_at"],
        "started_at": run.get("started_at"),
        "finished_at": run.get("finished_at"),
        "confirm_by": run.get("confirm_by"),
        "appeal_by": run.get("appeal_by"),
        "counts": run.get("counts"),
        "announced": bool((run.get("announced") or {}).get("done")),
    }


def request(deps: Deps, p: Principal, campaign_id: str, body: dict) -> dict:
    c = common.campaign(deps, campaign_id)
    if not common.runs_region(deps, p, c["region_id"]):
        raise common.forbidden("Admins and the region's officers run the allocation.")
    base = body["base_education"]
    tracks = dates.from_storage(c["tracks"])
    if not dates.is_closed(tracks, base, deps.today()):
        raise Problem(
            409,
            "track_open",
            f"The track takes applications until {tracks[base]['closes']}; allocate after.",
            field="base_education",
        )
    done = deps.db[store.RUNS].count_documents(
        {"campaign_id": campaign_id, "base_education": base, "status": DONE}
    )
    run = {
        "_id": f"run-{uuid.uuid4().hex[:16]}",
        "campaign_id": campaign_id,
        "region_id": c["region_id"],
        "base_education": base,
        "wave": done + 1,
        "status": QUEUED,
        "busy": True,
        "requested_by": p.account_id,
        "requested_at": deps.now(),
        "announced": {"cursor": None, "done": False},
    }
    try:
        deps.db[store.RUNS].insert_one(run)
    except DuplicateKeyError:
        raise Problem(
            409, "allocation_running", "A wave of this track is queued or running."
        ) from None
    return run_view(run)


def list_runs(deps: Deps, campaign_id: str) -> list[dict]:
    common.campaign(deps, campaign_id)
    found = (
        deps.db[store.RUNS]
        .find({"campaign_id": campaign_id})
        .sort([("base_education", 1), ("wave", 1)])
    )
    return [run_view(r) for r in found]


def get_run(deps: Deps, campaign_id: str, run_id: str) -> dict:
    run = deps.db[store.RUNS].find_one({"_id": run_id, "campaign_id": campaign_id})
    if run is None:
        raise common.not_found("allocation")
    return run_view(run)


# --- running a wave -----------------------------------------------------------------------
def run_pending(deps: Deps) -> int:
    """Run every queued wave (and restart a stale one); answers how many finished."""
    now = deps.now()
    for stale in deps.db[store.RUNS].find({"status": RUNNING, "started_at": {"$lt": now - STALE}}):
        deps.db[store.PLACEMENTS].delete_many({"run_id": stale["_id"]})
        deps.db[store.RUNS].update_one(
            {"_id": stale["_id"], "status": RUNNING}, {"$set": {"status": QUEUED}}
        )
    finished = 0
    for queued in list(deps.db[store.RUNS].find({"status": QUEUED}).sort("requested_at", 1)):
        claimed = deps.db[store.RUNS].find_one_and_update(
            {"_id": queued["_id"], "status": QUEUED},
            {"$set": {"status": RUNNING, "started_at": deps.now()}},
            return_document=True,
        )
        if claimed is None:
            continue  # another worker took it
        try:
            execute(deps, claimed)
            finished += 1
        except Exception:
            log.exception("allocation wave failed", extra={"run": claimed["_id"]})
            deps.db[store.PLACEMENTS].delete_many({"run_id": claimed["_id"]})
            deps.db[store.RUNS].update_one(
                {"_id": claimed["_id"]}, {"$set": {"status": FAILED}, "$unset": {"busy": ""}}
            )
    return finished


def capacities(deps: Deps, offers: list[dict]) -> dict[str, da.Offer]:
    """Each offer's seats this wave: its state-order seats less those already confirmed."""
    held: dict[tuple[str, str], int] = {}
    tracks = {(o["campaign_id"], o["base_education"]) for o in offers}
    ids = {o["_id"] for o in offers}
    for campaign_id, base in tracks:  # the track's index; no $in over thousands of offers
        for app in deps.db[store.APPLICATIONS].find(
            {"campaign_id": campaign_id, "base_education": base, "status": lc.ENROLLED},
            {"enrolment": 1},
        ):
            if app["enrolment"]["offer_id"] not in ids:
                continue
            key = (app["enrolment"]["offer_id"], app["enrolment"]["pool"])
            held[key] = held.get(key, 0) + 1
    out = {}
    for o in offers:
        taken = sum(n for (offer_id, _), n in held.items() if offer_id == o["_id"])
        quotas = {
            c: max(0, k - held.get((o["_id"], c), 0))
            for c, k in (o.get("quota_seats") or {}).items()
        }
        seats = max(0, o["state_order_seats"] - taken)
        # A confirmed holder of a general seat lent from a quota keeps it: trim the quotas.
        for category in reversed(CATEGORIES):
            while sum(quotas.values()) > seats and quotas.get(category, 0) > 0:
                quotas[category] -= 1
        out[o["_id"]] = da.Offer(o["_id"], seats, quotas)
    return out


def previous_holders(deps: Deps, run: dict) -> dict[str, tuple[str, int]]:
    """application id -> (offer id, since wave) of the seats the last wave gave."""
    prev = deps.db[store.RUNS].find_one(
        {"campaign_id": run["campaign_id"], "base_education": run["base_education"],
         "wave": run["wave"] - 1, "status": DONE}
    )  # fmt: skip
    if prev is None:
        return {}
    out = {}
    for doc in deps.db[store.PLACEMENTS].find({"run_id": prev["_id"]}, {"pools": 0}):
        for app_id, since in zip(doc["admitted"], doc["since"], strict=True):
            out[app_id] = (doc["offer_id"], since)
    return out


def participants(deps: Deps, run: dict, creative: set[str]) -> list[da.Applicant]:
    """The accepted applications of the track (accepted before the wave started)."""
    prev = previous_holders(deps, run)
    out = []
    cursor = deps.db[store.APPLICATIONS].find(
        {
            "campaign_id": run["campaign_id"],
            "base_education": run["base_education"],
            "status": lc.ACCEPTED,
            "accepted_at": {"$lt": run["started_at"]},
        },
        PARTICIPANT_FIELDS,
        batch_size=READ_BATCH,
    )
    for app in cursor:
        score, tie, offer_ids, claims, passed = results.parse_key(app["alloc"])
        choices = tuple(o for o in offer_ids if o not in creative or o in passed)
        held = prev.get(app["_id"])
        out.append(
            da.Applicant(
                id=app["_id"],
                score=score,
                tie=tie,
                choices=choices,
                claims=frozenset(claims),
                guaranteed=held[0] if held else None,
            )
        )
    return out


def execute(deps: Deps, run: dict) -> dict:
    enrolment.sweep_lapses(deps, run["campaign_id"], run["base_education"])
    offers = list(
        deps.db[store.OFFERS].find(
            {"campaign_id": run["campaign_id"], "base_education": run["base_education"]}
        )
    )
    creative = {o["_id"] for o in offers if o.get("creative")}
    caps = capacities(deps, offers)
    apps = participants(deps, run, creative)
    result = da.allocate(list(caps.values()), apps)
    prev = previous_holders(deps, run)
    rank = {app_id: i for i, app_id in enumerate(result.order)}
    admitted: dict[str, list[tuple[int, str, str]]] = {o["_id"]: [] for o in offers}
    for app_id, (offer_id, pool) in result.placement.items():
        admitted[offer_id].append((rank[app_id], app_id, pool))
    docs = []
    for o in offers:
        mine = sorted(admitted[o["_id"]])
        since = []
        for _, app_id, _ in mine:
            held = prev.get(app_id)
            since.append(held[1] if held and held[0] == o["_id"] else run["wave"])
        docs.append(
            {
                "_id": f"{run['_id']}:{o['_id']}",
                "run_id": run["_id"],
                "campaign_id": run["campaign_id"],
                "base_education": run["base_education"],
                "wave": run["wave"],
                "offer_id": o["_id"],
                "admitted": [a for _, a, _ in mine],
                "pools": [pool for _, _, pool in mine],
                "since": since,
                "result": {
                    pool: {"seats": r.seats, "filled": r.filled, "cutoff": r.cutoff}
                    for pool, r in result.pools[o["_id"]].items()
                },
            }
        )
    for i in range(0, len(docs), INSERT_BATCH):
        deps.db[store.PLACEMENTS].insert_many(docs[i : i + INSERT_BATCH], ordered=False)
    finished = deps.now()
    by_pool = {p: 0 for p in (*CATEGORIES, GENERAL)}
    for _, pool in result.placement.values():
        by_pool[pool] += 1
    counts = {
        "applications": len(apps),
        "allocated": len(result.placement),
        "not_allocated": len(apps) - len(result.placement),
        "by_pool": by_pool,
        "offers": len(offers),
        "seats": sum(c.seats for c in caps.values()),
    }
    changes = {
        "status": DONE,
        "finished_at": finished,
        "confirm_by": deps.calendar.deadline(finished, deps.settings.confirm_working_days),
        "appeal_by": deps.calendar.deadline(finished, deps.settings.appeal_working_days),
        "counts": counts,
    }
    deps.db[store.RUNS].update_one({"_id": run["_id"]}, {"$set": changes, "$unset": {"busy": ""}})
    run.update(changes)
    return counts


# --- announcing a wave's results ----------------------------------------------------------
def emit_many(session: ClientSession, db, items: list[tuple[EventType, dict]]) -> None:
    """Several outbox events in one insert (outbox.add does one insert per event), each checked
    against its schema like EventType.make, with one schema instance per type (make builds two
    per event, which is most of the cost of announcing 200,000 results)."""
    ctx = context.current()
    headers = {k: v for k, v in (("traceparent", ctx.traceparent),
                                 ("x-request-id", ctx.request_id)) if v}  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    schemas: dict[str, object] = {}
    docs = []
    for event, data in items:
        schema = schemas.get(event.routing_key)
        if schema is None:
            schema = schemas[event.routing_key] = event.schema()
        payload = schema.dump(data)
        errors = schema.validate(payload)
        if errors:
            raise ValidationError(errors)
        envelope = Envelope(
            id=str(uuid.uuid4()),
            type=event.type,
            version=event.version,
            occurred_at=now,
            source=event.service,
            data=payload,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
        )
        docs.append(
            {
                "_id": envelope.id,
                "exchange": event.exchange,
                "routing_key": envelope.routing_key,
                "body": envelope.to_dict(),
                "headers": headers,
                "created_at": now,
                "sent_at": None,
            }
        )
    if docs:
        db[outbox.COLLECTION].insert_many(docs, session=session)


def announce(deps: Deps) -> int:
    """Events for every finished wave not yet announced: ``allocated`` for each seat given
    this wave, ``not_allocated`` for each application without a seat that had one, or was not
    in, the previous wave. A cursor on the run moves in the same transaction as each batch."""
    told = 0
    for run in list(deps.db[store.RUNS].find({"status": DONE, "announced.done": False})):
        told += _announce(deps, run)
    return told


def _announce(deps: Deps, run: dict) -> int:
    placements = list(deps.db[store.PLACEMENTS].find({"run_id": run["_id"]}))
    seat = {}
    for doc in placements:
        for app_id, pool, since in zip(doc["admitted"], doc["pools"], doc["since"], strict=True):
            seat[app_id] = (doc["offer_id"], pool, since)
    results_of = {doc["offer_id"]: doc["result"] for doc in placements}
    prev_run = deps.db[store.RUNS].find_one(
        {"campaign_id": run["campaign_id"], "base_education": run["base_education"],
         "wave": run["wave"] - 1, "status": DONE}
    )  # fmt: skip
    prev_seat = previous_holders(deps, run) if prev_run else {}
    offers = {
        o["_id"]: o
        for o in deps.db[store.OFFERS].find(
            {"campaign_id": run["campaign_id"], "base_education": run["base_education"]}
        )
    }
    # One pass over the track's applications in id order (the _id index, no sort, no $in: on
    # the embedded database a lookup by a list of ids costs ~20x a scan); the cursor on the run
    # says where a restarted announcement goes on.
    flt = {"campaign_id": run["campaign_id"], "base_education": run["base_education"],
           "accepted_at": {"$lt": run["started_at"]}}  # fmt: skip
    cursor = (run.get("announced") or {}).get("cursor")
    if cursor:
        flt["_id"] = {"$gt": cursor}
    found = deps.db[store.APPLICATIONS].find(flt, ANNOUNCE_FIELDS, batch_size=READ_BATCH)
    batch = deps.settings.announce_batch
    told = 0
    chunk: list[dict] = []

    def flush(chunk: list[dict]) -> int:
        items = []
        for app in chunk:
            item = _outcome(app, run, seat, prev_seat, prev_run, offers, results_of)
            if item is not None:
                items.append(item)

        def work(session: ClientSession) -> None:
            emit_many(session, deps.db, items)
            deps.db[store.RUNS].update_one(
                {"_id": run["_id"]}, {"$set": {"announced.cursor": chunk[-1]["_id"]}},
                session=session,
            )  # fmt: skip

        mongo.in_transaction(deps.db, work)
        return len(items)

    for app in found.hint([("_id", 1)]):
        chunk.append(app)
        if len(chunk) >= batch:
            told += flush(chunk)
            chunk = []
    if chunk:
        told += flush(chunk)
    deps.db[store.RUNS].update_one({"_id": run["_id"]}, {"$set": {"announced.done": True}})
    return told


def _outcome(app, run, seat, prev_seat, prev_run, offers, results_of):
    score = from_hundredths(app["score"])
    if app["_id"] in seat:
        offer_id, pool, since = seat[app["_id"]]
        if since != run["wave"]:
            return None  # kept the seat of an earlier wave: nothing new to tell
        offer = offers[offer_id]
        return (
            events.ALLOCATED,
            {
                **common.whose(app),
                **common.offer_names(offer),
                "wave": run["wave"],
                "pool": pool,
                "cutoff": from_hundredths(results_of[offer_id][pool]["cutoff"]),
                "certificate_average": score,
                "choice_rank": app["offer_ids"].index(offer_id) + 1,
                "confirm_by": run["confirm_by"],
                "appeal_by": run["appeal_by"],
            },
        )
    if prev_run is not None and results.took_part(app, prev_run) and app["_id"] not in prev_seat:
        return None  # no seat in the previous wave either
    cutoffs = []
    for offer_id in app["offer_ids"]:
        pools = results_of.get(offer_id) or {}
        quota = {p: r["seats"] for p, r in pools.items() if p != GENERAL}
        pool = pool_at(set(app.get("quota_claims") or []), quota)
        cutoffs.append(
            {
                "offer_id": offer_id,
                "pool": pool,
                "cutoff": from_hundredths((pools.get(pool) or {}).get("cutoff")),
            }
        )
    return (
        events.NOT_ALLOCATED,
        {
            **common.whose(app),
            "wave": run["wave"],
            "certificate_average": score,
            "cutoffs": cutoffs,
            "appeal_by": run["appeal_by"],
        },
    )


# --- ranking lists ------------------------------------------------------------------------
def ranking(deps: Deps, offer_id: str, args: dict) -> dict:
    """The competition for one offer, best first, with masked IINs only: public. After a wave,
    whether each was admitted here, placed at a higher choice, or not admitted."""
    offer = common.offer(deps, offer_id)
    run = results.latest_run(deps, offer["campaign_id"], offer["base_education"])
    here: dict[str, str] = {}
    elsewhere: set[str] = set()
    if run is not None:
        doc = deps.db[store.PLACEMENTS].find_one({"_id": f"{run['_id']}:{offer_id}"})
        if doc:
            here = dict(zip(doc["admitted"], doc["pools"], strict=True))
    apps = list(
        deps.db[store.APPLICATIONS].find(
            {"offer_ids": offer_id, "status": {"$in": [lc.SUBMITTED, lc.ACCEPTED, lc.ENROLLED]}},
            {"applicant_iin": 1, "score": 1, "tie": 1, "offer_ids": 1, "status": 1,
             "quota_claims": 1, "accepted_at": 1, "enrolment": 1},
        )
    )  # fmt: skip
    if run is not None:
        others = [a["_id"] for a in apps if a["_id"] not in here]
        for i in range(0, len(others), 200):
            for d in deps.db[store.PLACEMENTS].find(
                {"run_id": run["_id"], "admitted": {"$in": others[i : i + 200]}}, {"admitted": 1}
            ):
                elsewhere |= set(d["admitted"]) & set(others)
    apps.sort(key=lambda a: (-a["score"], a.get("tie") or "~", a["_id"]))
    rows = []
    for position, a in enumerate(apps, start=1):
        if a["status"] == lc.ENROLLED:
            outcome = "enrolled_here" if a["enrolment"]["offer_id"] == offer_id else "elsewhere"
        elif run is None or not results.took_part(a, run):
            outcome = "competing"
        elif a["_id"] in here:
            outcome = "admitted"
        elif a["_id"] in elsewhere:
            outcome = "admitted_elsewhere"
        else:
            outcome = "not_admitted"
        rows.append(
            {
                "position": position,
                "applicant_iin_masked": "*" * 8 + a["applicant_iin"][-4:],
                "certificate_average": from_hundredths(a["score"]),
                "choice_rank": a["offer_ids"].index(offer_id) + 1,
                "quota_claim": bool(a.get("quota_claims")),
                "pool": here.get(a["_id"]),
                "outcome": outcome,
            }
        )
    got = paging.list_page(rows, key="position", limit=args["limit"], cursor=args.get("cursor"))
    got["wave"] = run["wave"] if run else None
    got["offer_id"] = offer_id
    return got
