"""Paying for a top-up: the payment provider, over HTTP (the contract is PAYMENTS.md).

A top-up is never approved by this side: we ask the provider to create a payment and send the
citizen to the provider's page (``redirect_url``); the provider later tells us, in a callback
signed with the shared secret, whether it was paid (``usecases/balance.on_callback``). Only that
signed "paid" credits the balance.

    create:   POST {PAYMENT_PROVIDER_URL}/payments
              Idempotency-Key: <our top-up id>     (the same key never makes a second payment)
              X-Signature: sha256=<hex HMAC-SHA256 of the body with PAYMENT_CALLBACK_SECRET>
              {"reference", "amount", "currency", "description", "callback_url", "return_url"}
           -> 201 (or 200 for a repeated key) {"payment_id", "status": "pending", "redirect_url"}
              402/409/422: refused (declined); 5xx, a timeout or an unreadable answer: try later

``PAYMENT_ADAPTER`` names the wiring: ``http`` in a deployment; ``dev`` (the default, a
development default production refuses) is the same adapter speaking to the dev inbox's
stand-in of the provider (``python -m dev.inbox``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

import requests

PENDING = "pending"
PAID = "paid"
DECLINED = "declined"
SIGNATURE_HEADER = "X-Signature"


class PaymentUnavailable(Exception):
    """The provider could not be reached, failed on its side or answered nonsense: try later."""


class PaymentRefused(Exception):
    """The provider refused to create the payment (declined); the message is fit to show."""


@dataclass(frozen=True)
class PaymentCreated:
    payment_id: str  # the provider's id of the payment
    redirect_url: str  # where the citizen pays
    status: str = PENDING


class PaymentAdapter(Protocol):
    name: str

    def create(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        return_url: str | None,
    ) -> PaymentCreated:
        """Ask for a payment; the same ``reference`` must never make a second one."""
        ...


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body>``: how both sides sign what they send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(secret: str, body: bytes, given: str) -> bool:
    """Whether ``given`` is the body's signature, compared in constant time."""
    return hmac.compare_digest((given or "").encode(), signature(secret, body).encode())


class HttpPayments:
    """The payment provider's HTTP API (PAYMENTS.md)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self.timeout = timeout
        self._http = session or requests.Session()

    def create(
        self,
        *,
        reference: str,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        return_url: str | None,
    ) -> PaymentCreated:
        body = json.dumps(
            {
                "reference": reference,
                "amount": amount,
                "currency": currency,
                "description": description,
                "callback_url": callback_url,
                "return_url": return_url,
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": reference,
            SIGNATURE_HEADER: signature(self._secret, body),
        }
        try:
            answer = self._http.post(
                f"{self.base_url}/payments", data=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            why = type(exc).__name__
            raise PaymentUnavailable(f"payment provider not reachable: {why}") from None
        if answer.status_code in (402, 409, 422):
            raise PaymentRefused(_reason(answer))
        if answer.status_code not in (200, 201):
            raise PaymentUnavailable(f"payment provider answered HTTP {answer.status_code}")
        try:
            data = answer.json()
            created = PaymentCreated(
                str(data["payment_id"]), str(data["redirect_url"]), str(data.get("status", PENDING))
            )
        except (ValueError, KeyError, TypeError):
            raise PaymentUnavailable("payment provider answered an unexpected shape") from None
        if not created.payment_id or not created.redirect_url.startswith(("https://", "http://")):
            raise PaymentUnavailable("payment provider answered an unusable payment")
        return created


def _reason(answer: requests.Response) -> str:
    try:
        said = answer.json().get("reason") or answer.json().get("detail")
    except (ValueError, AttributeError):
        said = None
    return str(said)[:200] if said else "The payment provider declined the payment."


ADAPTERS = ("dev", "http")


def adapter_named(
    name: str, *, base_url: str, secret: str, timeout: float = 10.0
) -> PaymentAdapter:
    if name not in ADAPTERS:
        raise ValueError(f"PAYMENT_ADAPTER {name!r}: known ones are {sorted(ADAPTERS)}")
    return HttpPayments(name, base_url, secret, timeout=timeout)
