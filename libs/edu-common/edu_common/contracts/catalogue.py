"""Every event contract in one list: what the platform's services publish, and what external
systems (the school journal) publish to it. The AsyncAPI catalogue is made from ``PUBLISHED``;
the contract tests check every consumed routing key against ``ALL``."""

from __future__ import annotations

from edu_common.contracts import applicant, identity, journal, kindergarten
from edu_common.envelope import EventType

PUBLISHED: list[EventType] = [*identity.ALL, *kindergarten.ALL, *applicant.ALL]
EXTERNAL: list[EventType] = [*journal.ALL]
ALL: list[EventType] = [*PUBLISHED, *EXTERNAL]


def by_routing_key() -> dict[tuple[str, str], EventType]:
    """(exchange, routing key) -> its contract."""
    return {(e.exchange, e.routing_key): e for e in ALL}
