"""What the sms-notify use cases share. The bottom of the use cases: it imports no other."""

from __future__ import annotations

from marshmallow import Schema, ValidationError

from edu_common.consumer import Reject
from edu_common.envelope import Envelope


def payload(schema: type[Schema], envelope: Envelope) -> dict:
    """The event's data as ``schema`` reads it; a payload that breaks the contract is parked at
    once, since retrying cannot fix it (the reason names fields, never their values)."""
    try:
        return schema().load(envelope.data)
    except ValidationError as exc:
        raise Reject(f"invalid {envelope.type} payload: {sorted(exc.messages)}") from exc
