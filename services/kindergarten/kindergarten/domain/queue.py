"""Queue numbers without counting the queue (docs/decisions/0010-queue-numbers.md). Pure.

Each queue (district, birth year, category) orders its applications by the time of application.
An application's place in that order is its key ``(base, ts, id)``:

- a normal arrival (registration) takes ``base`` = the queue's arrival counter + 1; arrivals
  come in time order, so bases follow time;
- an application confirmed into a queue later (a category decision) is inserted at its original
  time: it takes the base of the last normal arrival at or before its time (0 if none) and is
  recorded as an *extra* arrival.

The queue keeps, per block of ``BLOCK`` bases, the net of extra arrivals (+1) and departures
(-1), and, inside each block, the list of those events with their keys. Then

    queue_number = base - 1 (normal arrivals before) + net of whole blocks before
                   + events of my block with a key before mine + 1   [for normal arrivals]

and for an extra arrival the normal arrivals before it are ``base`` (its base's own arrival
is before it). Three documents are read whatever the queue's length.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

BLOCK = 256


def queue_key(district_id: str, birth_year: int, category: str) -> str:
    return f"{district_id}|{birth_year}|{category}"


def block_of(base: int) -> int:
    return base // BLOCK


def block_id(key: str, block: int) -> str:
    return f"{key}#{block}"


def ts_of(moment: dt.datetime) -> int:
    """Microseconds since the epoch: an exact, comparable time for keys."""
    return int(moment.timestamp() * 1_000_000)


def entry_key(base: int, ts: int, app_id: str) -> tuple[int, int, str]:
    return (base, ts, app_id)


def number(
    *,
    base: int,
    extra: bool,
    key: tuple[int, int, str],
    nets: Mapping[str, int],
    events: Iterable[Mapping],
) -> int:
    """The 1-based place of the entry with ``key`` among the active entries of its queue."""
    block = block_of(base)
    normal_before = base if extra else base - 1
    whole_blocks = sum(n for b, n in nets.items() if int(b) < block)
    in_block = sum(e["d"] for e in events if tuple(e["k"]) < key)
    return 1 + normal_before + whole_blocks + in_block
