"""The certificate average: kept as whole hundredths so that ties are exact."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def to_hundredths(average) -> int:
    """4.3 -> 430; the API allows at most two decimals."""
    return int((Decimal(str(average)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_hundredths(score: int | None) -> float | None:
    return None if score is None else score / 100
