"""The integration-event contracts: for each event its routing key, version and payload schema,
written once here and imported by the publisher and by every consumer, so the two cannot drift.
The AsyncAPI catalogue in docs/events/ is generated from these modules (``python -m
dev.catalogue``) and a test checks it is up to date.

One module per publisher (``identity``, ``kindergarten``, ``applicant``, and ``journal``, the
external school journal whose contract the platform offers it). A breaking change is a new
version beside the old one; adding an optional field is not. Consumers read tolerantly: a field
a publisher adds within a version is ignored, never a reason to park a message.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema


class Contract(Schema):
    """Base of every payload schema: unknown fields are ignored when read."""

    class Meta:
        unknown = EXCLUDE
