"""The prepaid SMS balance's rules. Pure: amounts in whole tenge (KZT), no I/O.

A subscription SMS costs ``price per segment × segments``; it is sent only when the balance
covers all of it (never a part, never below zero). Codes, security and state-service messages
never reach this code: they are free. A top-up must fall within the configured bounds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

TOP_UP = "top_up"
CHARGE = "charge"

# A top-up: new (our record, before the provider was asked) -> pending (the citizen pays on the
# provider's page) -> paid (its signed callback said so: the one moment the balance grows) or
# declined. Only new and pending move on; paid and declined are final.
NEW = "new"
PENDING = "pending"
PAID = "paid"
DECLINED = "declined"
TOP_UP_STATUSES = (NEW, PENDING, PAID, DECLINED)


class TopUpRejected(ValueError):
    """An amount that cannot be paid in; ``code`` is a stable machine code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def cost(segments: int, price_per_segment: int) -> int:
    if segments < 1:
        raise ValueError("a message has at least one segment")
    if price_per_segment < 0:
        raise ValueError("a price cannot be negative")
    return segments * price_per_segment


def can_pay(balance: int, amount: int) -> bool:
    return amount <= balance


def check_top_up(amount: int, minimum: int, maximum: int) -> int:
    if amount < minimum:
        raise TopUpRejected("amount_too_small", f"A top-up is at least {minimum} KZT.")
    if amount > maximum:
        raise TopUpRejected("amount_too_large", f"A top-up is at most {maximum} KZT.")
    return amount


@dataclass(frozen=True)
class LedgerEntry:
    account_id: str
    kind: str  # top_up | charge
    amount: int  # + for a top-up, - for a charge
    balance_after: int
    at: dt.datetime
    ref: str  # the top-up's id, or the message's id
    segments: int | None = None

    def __post_init__(self):
        if self.balance_after < 0:
            raise ValueError("the balance never goes below zero")
        if (self.kind == TOP_UP) != (self.amount > 0):
            raise ValueError("top-ups add, charges take away")
