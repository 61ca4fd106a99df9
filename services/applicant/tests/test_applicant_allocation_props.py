"""The allocation rule on random instances (hypothesis): it agrees with the round-by-round
reference, it is stable in every pool, no quota or capacity is exceeded, a seat held from an
earlier wave is kept or bettered, it is the applicant-optimal stable matching (brute force on
tiny instances), and the same input in any order gives the same result."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from applicant.domain.allocation import Applicant, Offer, allocate, keep_room_for_held
from applicant.domain.quotas import CATEGORIES, GENERAL, pool_at

from .allocation_reference import reference_allocate

PROPS = settings(max_examples=300, deadline=None, database=None)


@st.composite
def instances(draw, max_offers=5, max_applicants=14, guarantees=True):
    n_offers = draw(st.integers(1, max_offers))
    offers = []
    for i in range(n_offers):
        seats = draw(st.integers(0, 5))
        quotas = {}
        room = seats
        for c in draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3)):
            k = draw(st.integers(0, room))
            if k:
                quotas[c] = k
                room -= k
        offers.append(Offer(f"o{i}", seats, quotas))
    ids = [o.id for o in offers]
    applicants = []
    held: dict[str, int] = {}
    for j in range(draw(st.integers(0, max_applicants))):
        choices = tuple(draw(st.lists(st.sampled_from(ids), unique=True, max_size=4)))
        guaranteed = None
        if guarantees and choices and draw(st.booleans()) and draw(st.booleans()):
            g = draw(st.sampled_from(choices))
            cap = next(o.seats for o in offers if o.id == g)
            if held.get(g, 0) < cap:  # as after a wave: never more holders than seats
                held[g] = held.get(g, 0) + 1
                guaranteed = g
        applicants.append(
            Applicant(
                id=f"a{j:02d}",
                score=draw(st.integers(300, 306)) * 10 // 10,  # few values: many ties
                tie=draw(st.sampled_from(["t1", "t2", "t3"])),
                choices=choices,
                claims=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2))),
                guaranteed=guaranteed,
            )
        )
    return offers, applicants


def key(a: Applicant):
    return (-a.score, a.tie, a.id)


def pools_of(offer: Offer, a: Applicant) -> str:
    return pool_at(a.claims, {c: k for c, k in offer.quotas.items() if k > 0})


@PROPS
@given(instances())
def test_it_agrees_with_the_reference(instance):
    offers, applicants = instance
    assert allocate(offers, applicants).placement == reference_allocate(offers, applicants)


@PROPS
@given(instances())
def test_no_quota_or_capacity_is_exceeded_and_seats_are_chosen_ones(instance):
    offers, applicants = instance
    result = allocate(offers, applicants)
    by_id = {a.id: a for a in applicants}
    kept = {o.id: o for o in keep_room_for_held(offers, applicants)}
    for original in offers:
        offer = kept[original.id]  # quota seats lent to earlier holders stay general
        assert all(offer.quotas.get(c, 0) <= k for c, k in original.quotas.items())
        here = [(a, pool) for a, (o, pool) in result.placement.items() if o == offer.id]
        assert len(here) <= offer.seats
        for category, cap in offer.quotas.items():
            assert sum(1 for _, p in here if p == category) <= cap
        for a, pool in here:
            assert offer.id in by_id[a].choices
            # Its own pool at this offer, or a general seat (its quota full of higher ranks).
            assert pool in (pools_of(offer, by_id[a]), GENERAL)


@PROPS
@given(instances(guarantees=False))
def test_nobody_prefers_a_seat_held_by_someone_lower_in_the_same_pool(instance):
    offers, applicants = instance
    result = allocate(offers, applicants)
    by_offer = {o.id: o for o in offers}
    for a in applicants:
        mine = result.placement.get(a.id)
        better = a.choices[: a.choices.index(mine[0])] if mine else a.choices
        for offer_id in better:
            offer = by_offer[offer_id]
            pool = pools_of(offer, a)
            holders = [b for b in applicants if result.placement.get(b.id) == (offer_id, pool)]
            general = [b for b in applicants if result.placement.get(b.id) == (offer_id, GENERAL)]
            # Not admitted: everyone in its pool and in the general seats ranks higher...
            assert all(key(b) < key(a) for b in holders + general), (a, offer_id)
            # ...and no seat was left empty that it could have had.
            taken = sum(1 for v in result.placement.values() if v[0] == offer_id)
            assert taken == offer.seats or (pool != GENERAL and holders and not general)


@PROPS
@given(instances(guarantees=False), st.randoms(use_true_random=False))
def test_the_same_on_every_run_whatever_the_order(instance, rnd):
    offers, applicants = instance
    first = allocate(offers, applicants)
    shuffled_a, shuffled_o = list(applicants), list(offers)
    rnd.shuffle(shuffled_a)
    rnd.shuffle(shuffled_o)
    again = allocate(shuffled_o, shuffled_a)
    assert again.placement == first.placement
    assert {o: {p: (r.filled, r.cutoff) for p, r in v.items()} for o, v in again.pools.items()} == {
        o: {p: (r.filled, r.cutoff) for p, r in v.items()} for o, v in first.pools.items()
    }


@PROPS
@given(instances())
def test_a_seat_from_an_earlier_wave_is_kept_or_bettered(instance):
    offers, applicants = instance
    result = allocate(offers, applicants)
    for a in applicants:
        if a.guaranteed:
            got = result.placement.get(a.id)
            assert got is not None
            assert a.choices.index(got[0]) <= a.choices.index(a.guaranteed)


def _stable(offers, applicants, matching) -> bool:
    """No applicant and offer block it: the offer's choice from its holders plus the
    applicant would take the applicant."""
    by_offer = {o.id: o for o in offers}
    for a in applicants:
        mine = matching.get(a.id)
        better = a.choices[: a.choices.index(mine)] if mine else a.choices
        for offer_id in better:
            offer = by_offer[offer_id]
            holders = [b for b in applicants if matching.get(b.id) == offer_id]
            chosen = _choose(offer, [*holders, a])
            if a.id in chosen:
                return False
    return True


def _choose(offer, proposers) -> set[str]:
    ordered = sorted(proposers, key=key)
    caps = {c: k for c, k in offer.quotas.items() if k > 0}
    taken = set()
    for c, cap in caps.items():
        taken |= {a.id for a in [a for a in ordered if pools_of(offer, a) == c][:cap]}
    rest = [a.id for a in ordered if a.id not in taken][: max(0, offer.seats - len(taken))]
    return taken | set(rest)


@settings(max_examples=150, deadline=None, database=None)
@given(instances(max_offers=3, max_applicants=5, guarantees=False))
def test_it_is_the_best_stable_matching_for_every_applicant(instance):
    offers, applicants = instance
    result = {a: o for a, (o, _) in allocate(offers, applicants).placement.items()}
    assert _stable(offers, applicants, result)
    by_offer = {o.id: o for o in offers}
    options = [(None, *a.choices) for a in applicants]
    for combo in itertools.product(*options):
        matching = {a.id: o for a, o in zip(applicants, combo, strict=True) if o}
        if any(
            sum(1 for o in matching.values() if o == offer_id) > by_offer[offer_id].seats
            for offer_id in set(matching.values())
        ):
            continue
        if not all(
            set(_choose(by_offer[o], [a for a in applicants if matching.get(a.id) == o]))
            == {a.id for a in applicants if matching.get(a.id) == o}
            for o in set(matching.values())
        ):
            continue  # the offers would not hold this set (a quota pool over its seats)
        if not _stable(offers, applicants, matching):
            continue
        for a in applicants:
            mine, theirs = result.get(a.id), matching.get(a.id)
            rank = {o: i for i, o in enumerate(a.choices)}
            assert rank.get(mine, 99) <= rank.get(theirs, 99), (a.id, mine, theirs)
