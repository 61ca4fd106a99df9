"""Allocation of state-order seats: student-proposing deferred acceptance. Pure, no I/O.

Every offer ranks its proposers by one score (the certificate average, ties broken by the
rule of docs/decisions/0013-allocation.md), so deferred acceptance places applicants as if
they chose in score order, each taking their highest-ranked choice that still has a seat.
Quotas are reserves: at each offer an application competes in one pool (``quotas.pool_at``);
quota seats go first to that quota's claimants in score order, and whatever a quota leaves
empty is general seats. An application held from an earlier wave ranks first at the offer it
holds (``guaranteed``): it keeps that seat or gets a higher choice, never less.

Each offer's choice (reserves over disjoint pools, the rest by score) is substitutable and
fills every seat it can, so the result is the applicant-optimal stable matching: nobody
prefers a seat held by someone ranked lower in the same pool, no quota is exceeded, and
no applicant gains by misstating their choices. The result does not depend on the order of
the input (only on scores, tie-break keys and ids).

The implementation keeps, per offer, a heap per quota pool and one for the general seats, so a
proposal costs O(log seats); ``bench/admission.py`` checks it against a round-by-round
reference that recomputes each offer's choice from its definition.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from applicant.domain.quotas import GENERAL, pool_at


@dataclass(frozen=True)
class Offer:
    id: str
    seats: int  # state-order seats this wave can give (after those already confirmed)
    quotas: dict = field(default_factory=dict)  # category -> quota seats among ``seats``


@dataclass(frozen=True)
class Applicant:
    id: str
    score: int  # certificate average in hundredths
    tie: str  # the tie-break key: the smaller wins (decision 0013)
    choices: tuple  # offer ids, best first
    claims: frozenset = frozenset()  # quota categories whose proof was accepted
    guaranteed: str | None = None  # offer held from an earlier wave


@dataclass
class PoolResult:
    seats: int
    filled: int
    cutoff: int | None  # the lowest score admitted by score, when the pool is full


@dataclass
class Result:
    placement: dict  # applicant id -> (offer id, pool)
    pools: dict  # offer id -> {pool: PoolResult}
    order: list  # applicant ids, best first (the ranking every offer uses)


def ranking(applicants: list[Applicant]) -> list[Applicant]:
    """Best first: higher score, then the smaller tie-break key, then the id."""
    return sorted(applicants, key=lambda a: (-a.score, a.tie, a.id))


def keep_room_for_held(offers: list[Offer], applicants: list[Applicant]) -> list[Offer]:
    """Quota seats an earlier wave lent to general holders stay general this wave.

    A seat held from an earlier wave ranks first in its holder's pools, but a quota seat that
    nobody claimed then went to a general holder; a claimant arriving now (accepted later,
    re-scored on appeal) would take it back. So each offer keeps as general at least as many
    seats as its held applications need outside their quota pools, taking them from quota
    seats those holders do not fill (the last categories in the decree's order first)."""
    held: dict[str, dict[str, int]] = {}
    for a in applicants:
        if a.guaranteed is None:
            continue
        offer = next((o for o in offers if o.id == a.guaranteed), None)
        if offer is None or a.guaranteed not in a.choices:
            continue
        pool = pool_at(a.claims, {c: k for c, k in offer.quotas.items() if k > 0})
        mine = held.setdefault(offer.id, {})
        mine[pool] = mine.get(pool, 0) + 1
    out = []
    for offer in offers:
        counts = held.get(offer.id)
        if not counts:
            out.append(offer)
            continue
        quotas = {c: k for c, k in offer.quotas.items() if k > 0}

        for category in reversed(list(quotas)):
            while offer.seats - sum(quotas.values()) < _general_need(counts, quotas) and (
                quotas[category] > counts.get(category, 0)
            ):
                quotas[category] -= 1
        out.append(Offer(offer.id, offer.seats, {c: k for c, k in quotas.items() if k > 0}))
    return out


def _general_need(held: dict[str, int], quotas: dict[str, int]) -> int:
    """General seats the held applications need: their own, and their quota pools' overflow."""
    spill = sum(max(0, n - quotas.get(p, 0)) for p, n in held.items() if p != GENERAL)
    return held.get(GENERAL, 0) + spill


def allocate(offers: list[Offer], applicants: list[Applicant]) -> Result:
    offers = keep_room_for_held(offers, applicants)
    ranked = ranking(applicants)
    n = len(ranked)
    offer_index = {o.id: i for i, o in enumerate(offers)}
    seats = [max(0, o.seats) for o in offers]
    quota_caps = [{c: k for c, k in o.quotas.items() if k > 0} for o in offers]
    quota_held: list[dict[str, list]] = [{c: [] for c in caps} for caps in quota_caps]
    general: list[list] = [[] for _ in offers]
    used = [0] * len(offers)  # quota seats taken, per offer

    # Per applicant: its choices as (offer index, pool, priority); lower priority is better.
    prefs: list[list[tuple[int, str, int]]] = []
    for pos, a in enumerate(ranked):
        mine = []
        seen = set()
        for offer_id in a.choices:
            i = offer_index.get(offer_id)
            if i is None or i in seen:
                continue
            seen.add(i)
            pool = pool_at(a.claims, quota_caps[i])
            priority = pos - n if a.guaranteed == offer_id else pos
            mine.append((i, pool, priority))
        prefs.append(mine)

    def compete_general(i: int, who: int, priority: int) -> int | None:
        """``who`` asks for a general seat at offer i; answers whom the offer turns away."""
        heap = general[i]
        room = seats[i] - used[i]
        if len(heap) < room:
            heapq.heappush(heap, (-priority, who))
            return None
        if room <= 0 or not heap or -heap[0][0] < priority:
            return who
        _, worst = heapq.heapreplace(heap, (-priority, who))
        return worst

    def propose(who: int, i: int, pool: str, priority: int) -> int | None:
        if pool != GENERAL:
            held = quota_held[i][pool]
            if len(held) < quota_caps[i][pool]:
                heapq.heappush(held, (-priority, who))
                used[i] += 1
                heap = general[i]
                if len(heap) > seats[i] - used[i]:  # a quota seat lent to general comes back
                    return heapq.heappop(heap)[1]
                return None
            if -held[0][0] > priority:  # better than the worst quota holder: swap them
                neg, displaced = heapq.heapreplace(held, (-priority, who))
                return compete_general(i, displaced, -neg)
        return compete_general(i, who, priority)

    next_choice = [0] * n
    free = list(range(n - 1, -1, -1))
    while free:
        who = free.pop()
        mine = prefs[who]
        while next_choice[who] < len(mine):
            i, pool, priority = mine[next_choice[who]]
            next_choice[who] += 1
            turned_away = propose(who, i, pool, priority)
            if turned_away != who:
                if turned_away is not None:
                    free.append(turned_away)
                break

    placement: dict[str, tuple[str, str]] = {}
    pools: dict[str, dict[str, PoolResult]] = {}
    for i, offer in enumerate(offers):
        out: dict[str, PoolResult] = {}
        for category, held in quota_held[i].items():
            out[category] = _pool_result(quota_caps[i][category], held, ranked, n)
            for _, who in held:
                placement[ranked[who].id] = (offer.id, category)
        out[GENERAL] = _pool_result(seats[i] - used[i], general[i], ranked, n)
        for _, who in general[i]:
            placement[ranked[who].id] = (offer.id, GENERAL)
        pools[offer.id] = out
    return Result(placement=placement, pools=pools, order=[a.id for a in ranked])


def _pool_result(capacity: int, held: list, ranked: list[Applicant], n: int) -> PoolResult:
    by_score = [-p for p, _ in held if -p >= 0]  # guaranteed holders have negative priority
    cutoff = None
    if len(held) >= capacity and by_score:
        cutoff = ranked[max(by_score)].score
    return PoolResult(seats=max(0, capacity), filled=len(held), cutoff=cutoff)
