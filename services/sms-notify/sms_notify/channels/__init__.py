"""Channel adapters: how a message leaves the platform (SMTP, an SMS gateway...).

Delivery depends only on ``Channel``; which adapter serves which channel is wiring.
Adapters sort every failure into one of two kinds, because delivery acts on the kind:
``TransientError`` is tried again later, ``PermanentError`` fails the message at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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


class Channel(Protocol):
    provider: str  # recorded on the message, e.g. "smtp", "smsc"

    def send(self, message: Outgoing) -> str:
        """Hand the message to the provider; answers the provider's id for it."""
        ...
