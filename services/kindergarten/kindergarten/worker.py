"""kindergarten's worker: keeps the accounts copy, relays the outbox, and runs the sweeps that
move time-bound things on (lapses, reminders, re-offers, queue-number notices, the re-sort)."""

from __future__ import annotations

from edu_common import accounts, worker
from edu_common.consumer import Binding
from edu_common.envelope import exchange_name
from kindergarten import events
from kindergarten.app import build_deps, indexes
from kindergarten.deps import Deps
from kindergarten.settings import Settings
from kindergarten.usecases import applications, places, referrals


def sweep(deps: Deps) -> dict:
    """One pass of the time-bound rules; each is a pure use case tests call with a moved clock."""
    return {
        "lapsed": referrals.sweep_lapses(deps),
        "reminded": referrals.sweep_reminders(deps),
        "reoffered": places.sweep_vacant(deps),
        "aged_out": applications.resort(deps),
    }


def bindings(deps: Deps) -> list[Binding]:
    """What the worker consumes: identity's accounts, for the local copy."""
    return [accounts.binding()]


def periodic(deps: Deps) -> list[worker.Periodic]:
    s = deps.settings
    return [
        worker.Periodic("kindergarten-sweep", s.sweep_seconds, lambda: sweep(deps)),
        worker.Periodic(
            "kindergarten-queue-numbers",
            s.number_sweep_seconds,
            lambda: applications.notify_number_changes(deps),
        ),
    ]


def main(settings: Settings | None = None, **overrides) -> None:
    settings = settings or Settings.from_env()
    deps = build_deps(settings, **overrides)
    worker.run(
        service="kindergarten",
        db=deps.db,
        amqp_url=settings.amqp_url,
        bindings=bindings(deps),
        exchanges=sorted({*events.EXCHANGES, exchange_name("kindergarten")}),
        indexes=indexes(),
        periodic=periodic(deps),
    )


if __name__ == "__main__":
    main()
