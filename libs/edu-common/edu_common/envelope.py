"""The event envelope every message on the bus carries, and the catalogue of event types."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate

from edu_common import context

PUBLIC = "public"  # other agencies may bind to it
INTERNAL = "internal"  # platform services only: codes and other secrets travel here
# Payload fields that are secrets by their name alone, whatever event carries them: a code or
# one-time password to deliver, a token. An event may name others (``secret_fields``).
SECRET_FIELD_NAMES = frozenset(
    {"code", "password", "one_time_password", "otp", "token", "secret", "pin"}
)


class EnvelopeSchema(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]+(\.[a-z0-9_]+)+$"))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=dt.UTC)
    source = fields.String(required=True)
    correlation_id = fields.String(load_default=None, allow_none=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    version: int
    occurred_at: dt.datetime
    source: str
    data: dict
    correlation_id: str | None = None
    causation_id: str | None = None

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.version}"

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "source": self.source,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "data": self.data,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> Envelope:
        """Raises marshmallow.ValidationError on anything that is not a valid envelope."""
        loaded = EnvelopeSchema().load(raw)
        return cls(
            id=str(loaded["id"]),
            type=loaded["type"],
            version=loaded["version"],
            occurred_at=loaded["occurred_at"],
            source=loaded["source"],
            data=loaded["data"],
            correlation_id=loaded["correlation_id"],
            causation_id=loaded["causation_id"],
        )


@dataclass(frozen=True)
class EventType:
    """One versioned event a service publishes; the catalogue is built from these.

    ``secret_fields``: payload fields that must not be kept once delivered (the outbox relay
    removes them when the broker has confirmed the event; a parked copy expires, see
    edu_common.consumer). By default the schema's fields named in ``SECRET_FIELD_NAMES`` or
    declared with ``metadata={"secret": True}``.
    """

    service: str
    name: str  # "<entity>.<event>", e.g. "account.registered"
    version: int
    schema: type[Schema]
    description: str
    audience: str = PUBLIC
    tags: tuple[str, ...] = field(default=())
    secret_fields: tuple[str, ...] | None = None

    def __post_init__(self):
        if self.secret_fields is None:
            found = tuple(
                name
                for name, f in self.schema().fields.items()
                if name in SECRET_FIELD_NAMES or f.metadata.get("secret")
            )
            object.__setattr__(self, "secret_fields", found)
        else:
            object.__setattr__(self, "secret_fields", tuple(self.secret_fields))

    @property
    def type(self) -> str:
        return f"{self.service}.{self.name}"

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.version}"

    @property
    def exchange(self) -> str:
        return exchange_name(self.service, self.audience)

    def make(self, data: dict, *, occurred_at: dt.datetime | None = None) -> Envelope:
        """An envelope for this event; the payload is checked against its schema first."""
        payload = self.schema().dump(data)
        errors = self.schema().validate(payload)
        if errors:
            raise ValidationError(errors)
        ctx = context.current()
        return Envelope(
            id=str(uuid.uuid4()),
            type=self.type,
            version=self.version,
            occurred_at=occurred_at or dt.datetime.now(dt.UTC),
            source=self.service,
            data=payload,
            correlation_id=ctx.correlation_id,
            causation_id=ctx.causation_id,
        )


def exchange_name(service: str, audience: str = PUBLIC) -> str:
    return f"{service}.events" if audience == PUBLIC else f"{service}.internal"
