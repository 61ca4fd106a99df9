"""applicant's worker: keeps the accounts copy, relays the outbox, runs the allocation waves
that were asked for and announces their results, and the sweeps (unconfirmed seats lapse,
overdue requests are flagged, orphaned uploads removed)."""

from __future__ import annotations

from applicant import events
from applicant.app import build_deps, indexes
from applicant.deps import Deps
from applicant.settings import Settings
from applicant.usecases import allocation, documents, enrolment, requests
from edu_common import accounts, worker
from edu_common.envelope import exchange_name


def sweep(deps: Deps) -> dict:
    """One pass of the time-bound rules; each is a use case tests call with a moved clock."""
    return {
        "lapsed": enrolment.sweep_lapses(deps),
        "overdue": requests.sweep_overdue(deps),
        "orphans": documents.sweep_orphans(deps),
    }


def waves(deps: Deps) -> dict:
    return {"ran": allocation.run_pending(deps), "announced": allocation.announce(deps)}


def periodic(deps: Deps) -> list[worker.Periodic]:
    s = deps.settings
    return [
        worker.Periodic("applicant-sweep", s.sweep_seconds, lambda: sweep(deps)),
        worker.Periodic("applicant-waves", s.allocation_poll_seconds, lambda: waves(deps)),
    ]


def main(settings: Settings | None = None, **overrides) -> None:
    settings = settings or Settings.from_env()
    deps = build_deps(settings, **overrides)
    worker.run(
        service="applicant",
        db=deps.db,
        amqp_url=settings.amqp_url,
        bindings=[accounts.binding()],
        exchanges=sorted({*events.EXCHANGES, exchange_name("applicant")}),
        indexes=indexes(),
        periodic=periodic(deps),
    )


if __name__ == "__main__":
    main()
