"""Who gets the next place: the extraordinary queue first, then priority and general in a cycle
of ``priority`` : ``general`` places (DOMAIN: 1 : 3), starting with priority; an empty queue
passes its turn. Pure, no I/O (docs/decisions/0011-kindergarten-allocation.md).

The cycle's position (0 .. priority+general-1) is kept per district and birth year: positions
below ``priority`` are priority turns, the rest general ones.
"""

from __future__ import annotations

EXTRAORDINARY = "extraordinary"
PRIORITY = "priority"
GENERAL = "general"


def turn_category(position: int, priority: int, general: int) -> str:
    return PRIORITY if position % (priority + general) < priority else GENERAL


def attempts(position: int, priority: int, general: int) -> list[tuple[str, int]]:
    """The queues to try for one place, in order, each with the cycle position to keep if that
    queue takes the place. Extraordinary does not move the cycle."""
    length = priority + general
    tried: list[tuple[str, int]] = [(EXTRAORDINARY, position % length)]
    seen: set[str] = set()
    for step in range(length):
        at = (position + step) % length
        category = turn_category(at, priority, general)
        if category in seen:
            continue
        seen.add(category)
        tried.append((category, (at + 1) % length))
    return tried
