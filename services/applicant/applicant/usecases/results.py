"""Reading a wave's results: where an accepted application stands after the latest wave of its
track (docs/decisions/0013-allocation.md). Writing them is usecases/allocation.py."""

from __future__ import annotations

from dataclasses import dataclass

from applicant import store
from applicant.deps import Deps
from applicant.domain import lifecycle
from applicant.domain.quotas import GENERAL, pool_at
from applicant.domain.scores import from_hundredths

DONE = "done"


@dataclass(frozen=True)
class Standing:
    run: dict  # the latest finished wave the application took part in
    offer_id: str | None  # None: not allocated
    pool: str | None
    since_wave: int | None
    cutoff: int | None

    @property
    def placed(self) -> bool:
        return self.offer_id is not None


def allocation_key(app: dict) -> str:
    """What a wave reads of an application, in one string: reading five fields (three of them
    arrays) of 200,000 documents costs the embedded database several times one string's."""
    return "|".join(
        [
            str(app["score"]),
            app.get("tie") or "",
            ",".join(app["offer_ids"]),
            ",".join(app.get("quota_claims") or []),
            ",".join(app.get("passed_exams") or []),
        ]
    )


def parse_key(key: str) -> tuple[int, str, list[str], list[str], list[str]]:
    score, tie, offers, claims, passed = key.split("|")
    split = lambda v: v.split(",") if v else []  # noqa: E731
    return int(score), tie, split(offers), split(claims), split(passed)


def refresh_key(deps: Deps, app_id: str, session=None) -> None:
    """Keep ``alloc`` in step after any change of the fields it holds."""
    app = deps.db[store.APPLICATIONS].find_one({"_id": app_id}, session=session)
    if app is not None:
        deps.db[store.APPLICATIONS].update_one(
            {"_id": app_id}, {"$set": {"alloc": allocation_key(app)}}, session=session
        )


def latest_run(deps: Deps, campaign_id: str, base: str, session=None) -> dict | None:
    found = list(
        deps.db[store.RUNS]
        .find({"campaign_id": campaign_id, "base_education": base, "status": DONE},
              session=session)
        .sort("wave", -1)
        .limit(1)
    )  # fmt: skip
    return found[0] if found else None


def run_of_wave(deps: Deps, campaign_id: str, base: str, wave: int) -> dict | None:
    return deps.db[store.RUNS].find_one(
        {"campaign_id": campaign_id, "base_education": base, "wave": wave, "status": DONE}
    )


def took_part(app: dict, run: dict) -> bool:
    """Accepted before the wave started: it was one of the wave's applications."""
    accepted_at = app.get("accepted_at")
    return accepted_at is not None and accepted_at < run["started_at"]


def standing(deps: Deps, app: dict, session=None) -> Standing | None:
    """None while no wave has decided on the application (or it is not accepted)."""
    if app["status"] != lifecycle.ACCEPTED:
        return None
    run = latest_run(deps, app["campaign_id"], app["base_education"], session)
    if run is None or not took_part(app, run):
        return None
    doc = deps.db[store.PLACEMENTS].find_one(
        {"run_id": run["_id"], "admitted": app["_id"]}, session=session
    )
    if doc is None:
        return Standing(run, None, None, None, None)
    i = doc["admitted"].index(app["_id"])
    pool = doc["pools"][i]
    return Standing(
        run, doc["offer_id"], pool, doc["since"][i], (doc["result"].get(pool) or {}).get("cutoff")
    )


def confirm_by(deps: Deps, app: dict, st: Standing):
    """The deadline of the wave that gave the seat (a kept seat keeps its first deadline)."""
    if st.since_wave == st.run["wave"]:
        return st.run["confirm_by"]
    first = run_of_wave(deps, app["campaign_id"], app["base_education"], st.since_wave)
    return (first or st.run)["confirm_by"]


def choice_outcomes(deps: Deps, app: dict, st: Standing) -> list[dict]:
    """Per choice: the pool it competed in, that pool's cutoff and the general one, and why
    it was or was not reached ("cutoff 4.60, your average 4.30")."""
    ids = [f"{st.run['_id']}:{c['offer_id']}" for c in app["choices"]]
    docs = {
        d["offer_id"]: d
        for d in deps.db[store.PLACEMENTS].find(
            {"_id": {"$in": ids}}, {"admitted": 0, "pools": 0, "since": 0}
        )
    }
    out = []
    reached = False
    passed = set(app.get("passed_exams") or [])
    for rank, choice in enumerate(app["choices"], start=1):
        doc = docs.get(choice["offer_id"])
        pools = (doc or {}).get("result", {})
        seats = {p: r["seats"] for p, r in pools.items() if p != GENERAL}
        pool = pool_at(set(app.get("quota_claims") or []), seats)
        cutoff = (pools.get(pool) or {}).get("cutoff")
        general = (pools.get(GENERAL) or {}).get("cutoff")
        mine = from_hundredths(app["score"])
        if choice["offer_id"] == st.offer_id:
            outcome, note = "allocated", "allocated here"
            reached = True
        elif reached:
            outcome, note = "not_needed", "a higher choice was allocated"
        elif choice.get("creative") and choice["offer_id"] not in passed:
            outcome, note = "exam_not_passed", "the entrance exam was not passed"
        elif cutoff is None and general is None:
            outcome, note = "no_seats", "no state-order seats were left"
        else:
            best = max(c for c in (cutoff, general) if c is not None)
            outcome = "below_cutoff"
            note = f"cutoff {from_hundredths(best):.2f}, your average {mine:.2f}"
        out.append(
            {
                "offer_id": choice["offer_id"],
                "rank": rank,
                "pool": pool,
                "cutoff": from_hundredths(cutoff),
                "general_cutoff": from_hundredths(general),
                "outcome": outcome,
                "note": note,
            }
        )
    return out
