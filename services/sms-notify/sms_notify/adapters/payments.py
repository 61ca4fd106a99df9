"""Paying for a top-up: the adapter protocol and a development adapter that approves at once.

A real acquirer (Kaspi Pay, Halyk ePay...) is an adapter of ``PaymentAdapter``; which one runs
is the setting ``PAYMENT_ADAPTER``. The adapter gets our idempotency key, so a retried top-up is
charged to the card once even if our own record of it was lost in between.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

APPROVED = "approved"
DECLINED = "declined"


class PaymentUnavailable(Exception):
    """The acquirer could not be reached or failed on its side: try again later."""


@dataclass(frozen=True)
class PaymentResult:
    status: str  # approved | declined
    payment_id: str  # the acquirer's id of the payment
    reason: str | None = None  # why it was declined, fit to show


class PaymentAdapter(Protocol):
    name: str

    def pay(self, *, account_id: str, amount: int, currency: str, key: str) -> PaymentResult:
        """Take ``amount`` from the payer; the same ``key`` must never be charged twice."""
        ...


class DevPayments:
    """Development and tests: approves every payment at once, charges nobody.

    Amounts ending in 13 are declined, so the declined path can be tried by hand.
    """

    name = "dev"

    def pay(self, *, account_id: str, amount: int, currency: str, key: str) -> PaymentResult:
        payment_id = "dev-" + hashlib.sha256(f"{account_id}|{key}".encode()).hexdigest()[:24]
        if amount % 100 == 13:
            return PaymentResult(DECLINED, payment_id, "declined by the development acquirer")
        return PaymentResult(APPROVED, payment_id)


ADAPTERS = {"dev": DevPayments}


def adapter_named(name: str) -> PaymentAdapter:
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise ValueError(f"PAYMENT_ADAPTER {name!r}: known ones are {sorted(ADAPTERS)}") from None
