"""An independent implementation of the allocation rule, for tests and bench/admission.py.

Deferred acceptance in rounds, straight from the definition: every unplaced applicant
proposes to their next choice at once, and each offer recomputes its choice from everyone it
holds or is offered: quota seats first to that quota's claimants by rank, then the remaining
seats (general ones and quota seats left empty) to the rest by rank. Slow (each round sorts
every offer's proposers) and simple; it shares no code with applicant.domain.allocation but
the pool rule (quotas.pool_at), the step that keeps room for seats held from an earlier wave
(allocation.keep_room_for_held) and the ranking key.
"""

from __future__ import annotations

from applicant.domain.allocation import keep_room_for_held
from applicant.domain.quotas import GENERAL, pool_at


def reference_allocate(offers, applicants) -> dict:
    """applicant id -> (offer id, pool), for the same inputs as allocation.allocate."""
    offers = keep_room_for_held(offers, applicants)  # the rule's own step for held seats
    order = sorted(applicants, key=lambda a: (-a.score, a.tie, a.id))
    rank = {a.id: i for i, a in enumerate(order)}
    by_id = {a.id: a for a in applicants}
    offer_by_id = {o.id: o for o in offers}
    caps = {o.id: {c: k for c, k in o.quotas.items() if k > 0} for o in offers}

    def prio(a, offer_id):
        return (0 if a.guaranteed == offer_id else 1, rank[a.id])

    def choose(offer_id, proposers):
        offer = offer_by_id[offer_id]
        ordered = sorted(proposers, key=lambda a: prio(by_id[a], offer_id))
        chosen = {}
        for category, cap in caps[offer_id].items():
            claimants = [a for a in ordered if pool_at(by_id[a].claims, caps[offer_id]) == category]
            for a in claimants[:cap]:
                chosen[a] = category
        room = max(0, offer.seats - len(chosen))
        rest = [a for a in ordered if a not in chosen][:room]
        for a in rest:
            chosen[a] = GENERAL
        return chosen

    lists = {}
    for a in applicants:
        seen = []
        for c in a.choices:
            if c in offer_by_id and c not in seen:
                seen.append(c)
        lists[a.id] = seen
    nxt = {a.id: 0 for a in applicants}
    held: dict[str, dict] = {o.id: {} for o in offers}
    free = {a.id for a in applicants}
    while True:
        asked: dict[str, list[str]] = {}
        for a in sorted(free):
            if nxt[a] < len(lists[a]):
                asked.setdefault(lists[a][nxt[a]], []).append(a)
                nxt[a] += 1
        if not asked:
            break
        free = set()
        for offer_id, newcomers in asked.items():
            everyone = list(held[offer_id]) + newcomers
            held[offer_id] = choose(offer_id, everyone)
            free |= {a for a in everyone if a not in held[offer_id]}
    return {a: (offer_id, pool) for offer_id, got in held.items() for a, pool in got.items()}
