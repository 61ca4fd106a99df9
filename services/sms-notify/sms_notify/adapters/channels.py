"""Channel adapters: how a message leaves the platform (SMTP, an SMS gateway...).

Delivery depends only on ``Channel``; which adapter serves which channel is wiring.
Adapters sort every failure into one of two kinds, because delivery acts on the kind:
``TransientError`` is tried again later, ``PermanentError`` fails the message at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import requests


class DeliveryError(Exception):
    """The provider did not take the message. Texts must never carry the message body."""


class TransientError(DeliveryError):
    """Worth another try: timeouts, refused connections, 5xx, a provider-side limit."""


class PermanentError(DeliveryError):
    """Trying again cannot help: a refused recipient, a rejected text, a 4xx."""


@dataclass(frozen=True)
class Outgoing:
    """One message as an adapter sends it, the secret already in the text."""

    id: str  # our message id: providers get it to recognise a repeated send
    channel: str
    to: str
    body: str = field(repr=False)
    subject: str | None = None


@dataclass(frozen=True)
class Receipt:
    """Which provider took the message, under which id (a fail-over channel answers this)."""

    provider: str
    provider_id: str


@dataclass(frozen=True)
class Report:
    """A provider's word on a sent message: delivered, undelivered, or still on its way."""

    provider_id: str
    status: str  # "delivered" | "undelivered" | "pending"
    detail: str | None = None


class Channel(Protocol):
    provider: str  # recorded on the message, e.g. "smtp", "smsc"

    def send(self, message: Outgoing) -> str | Receipt:
        """Hand the message to the provider; answers the provider's id for it (or a Receipt)."""
        ...


@runtime_checkable
class Reporting(Protocol):
    """A provider that answers about delivery (SMSC, Mobizon; SMTP does not)."""

    provider: str

    def status(self, provider_ids: list[str], to: str | None = None) -> list[Report]: ...


def post_for_json(http, provider: str, url: str, *, data, timeout, params=None) -> dict:
    """POST a provider's form and answer its JSON object, or raise what the outcome means:
    timeouts, 5xx, 408, 429 and unreadable answers are transient; other 4xx are permanent.
    POST, so passwords, keys and texts stay out of URLs and proxy logs."""
    try:
        extra = {"params": params} if params else {}
        answer = http.post(url, data=data, timeout=timeout, **extra)
    except requests.Timeout:
        raise TransientError(f"{provider} did not answer in time") from None
    except requests.RequestException as exc:
        raise TransientError(f"{provider} unreachable: {type(exc).__name__}") from None
    status = answer.status_code
    if status >= 500 or status in (408, 429):
        raise TransientError(f"{provider} HTTP {status}")
    if status >= 400:
        raise PermanentError(f"{provider} HTTP {status}")
    try:
        body = answer.json()
    except ValueError:
        raise TransientError(f"{provider} answered something other than JSON") from None
    if not isinstance(body, dict):
        raise TransientError(f"{provider} answered an unexpected JSON shape")
    return body


class FailoverChannel:
    """Several providers of one channel in order: a transient failure passes to the next.

    A permanent failure (a refused number, a 4xx) stops at once: another provider would refuse
    it too. Only when every provider failed transiently is the whole send transient, and the
    next attempt starts again from the first. The price: a provider that timed out after taking
    the message leads to a second SMS through the next one.

    A provider that failed ``trip_after`` times in a row is tried last for ``cool_down``
    seconds (a simple circuit breaker): while SMSC is down, every SMS does not first wait for
    its timeout.
    """

    def __init__(
        self,
        providers: list[Channel],
        *,
        trip_after: int = 3,
        cool_down: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not providers:
            raise ValueError("at least one provider")
        self.providers = list(providers)
        self.provider = "+".join(p.provider for p in self.providers)
        self.trip_after = trip_after
        self.cool_down = cool_down
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = {p.provider: 0 for p in self.providers}
        self._open_until = {p.provider: 0.0 for p in self.providers}

    def order(self) -> list[Channel]:
        """Healthy providers first, in their configured order; tripped ones last."""
        now = self._clock()
        with self._lock:
            return sorted(self.providers, key=lambda p: self._open_until[p.provider] > now)

    def _record(self, provider: str, ok: bool) -> None:
        with self._lock:
            if ok:
                self._failures[provider] = 0
                self._open_until[provider] = 0.0
                return
            self._failures[provider] += 1
            if self._failures[provider] >= self.trip_after:
                self._open_until[provider] = self._clock() + self.cool_down

    def send(self, message: Outgoing) -> Receipt:
        errors = []
        for p in self.order():
            try:
                answer = p.send(message)
            except TransientError as exc:
                self._record(p.provider, ok=False)
                errors.append(f"{p.provider}: {exc}")
                continue
            self._record(p.provider, ok=True)
            if isinstance(answer, Receipt):
                return answer
            return Receipt(p.provider, str(answer))
        raise TransientError("; ".join(errors)[:500])

    def by_name(self, name: str) -> Channel | None:
        return next((p for p in self.providers if p.provider == name), None)


def provider_named(channel: Channel | None, name: str | None) -> Reporting | None:
    """The provider of ``channel`` that took a message, if it can be asked about delivery."""
    if channel is None or not name:
        return None
    if isinstance(channel, FailoverChannel):
        found = channel.by_name(name)
    else:
        found = channel if channel.provider == name else None
    return found if isinstance(found, Reporting) else None
