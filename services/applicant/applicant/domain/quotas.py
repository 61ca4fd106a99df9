"""Quotas of the state order (Government Decree No. 264 of 28.02.2012, as amended). Pure.

Each category has a percentage (a setting) and applies to some offers: every offer, the
offers marked as serving rural areas (rural youth), or the offers in regions the government
designates for resettlement. Quota seats are counted per offer from its state-order seats with
the rounding rule of docs/decisions/0012-quota-rounding.md; seats of a quota nobody eligible
takes return to the offer's general seats (the allocation does this).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

GENERAL = "general"
# The decree's order: it is also the order in which an application's claims are tried.
DISABILITY = "disability"
VETERAN_EQUATED = "veteran_equated"
ORPHAN = "orphan"
KANDAS = "kandas"
RURAL = "rural"
RURAL_RESETTLEMENT = "rural_resettlement"
CATEGORIES = (DISABILITY, VETERAN_EQUATED, ORPHAN, KANDAS, RURAL, RURAL_RESETTLEMENT)
POOLS = (*CATEGORIES, GENERAL)

EVERY_OFFER = "every_offer"
RURAL_OFFERS = "rural_offers"
RESETTLEMENT_REGIONS = "resettlement_regions"
APPLIES = {
    DISABILITY: EVERY_OFFER,
    VETERAN_EQUATED: EVERY_OFFER,
    ORPHAN: EVERY_OFFER,
    KANDAS: EVERY_OFFER,
    RURAL: RURAL_OFFERS,
    RURAL_RESETTLEMENT: RESETTLEMENT_REGIONS,
}
ROUNDINGS = {"half_up": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}


@dataclass(frozen=True)
class QuotaRules:
    percent: dict  # category -> percentage of the offer's state-order seats
    rounding: str = "half_up"

    def applies(self, category: str, rural: bool, resettlement_region: bool) -> bool:
        where = APPLIES[category]
        return (
            where == EVERY_OFFER
            or (where == RURAL_OFFERS and rural)
            or (where == RESETTLEMENT_REGIONS and resettlement_region)
        )

    def seats(self, state_order_seats: int, rural: bool, resettlement_region: bool) -> dict:
        """Quota seats per category for one offer; never more in all than its seats.

        Each is ``state_order_seats * percent / 100`` rounded by the rule; if their sum passes
        the seats (tiny offers with ``ceil``), the last categories in the decree's order give
        seats back first."""
        mode = ROUNDINGS[self.rounding]
        out = {}
        for category in CATEGORIES:
            if not self.applies(category, rural, resettlement_region):
                continue
            raw = Decimal(state_order_seats) * Decimal(str(self.percent[category])) / 100
            n = int(raw.quantize(Decimal(1), rounding=mode))
            if n > 0:
                out[category] = n
        excess = sum(out.values()) - state_order_seats
        for category in reversed(CATEGORIES):
            if excess <= 0:
                break
            if category in out:
                give = min(excess, out[category])
                out[category] -= give
                excess -= give
                if not out[category]:
                    del out[category]
        return out


def pool_at(claims, quota_seats: dict) -> str:
    """The pool an application competes in at one offer: its first claim (decree order) that
    has quota seats there, else general. One pool per application and offer keeps the offer's
    choice substitutable (disjoint reserves), so the allocation stays stable and
    strategy-proof (docs/decisions/0013-allocation.md)."""
    for category in CATEGORIES:
        if category in claims and quota_seats.get(category, 0) > 0:
            return category
    return GENERAL
