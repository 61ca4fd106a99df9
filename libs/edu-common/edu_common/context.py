"""What a unit of work is part of: request id, trace, and the event that caused it.

Kept in context variables so logs and outgoing events pick them up without plumbing.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


@dataclass(frozen=True)
class Context:
    request_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None

    @property
    def traceparent(self) -> str | None:
        if not self.trace_id or not self.span_id:
            return None
        return f"00-{self.trace_id}-{self.span_id}-01"


_current: ContextVar[Context] = ContextVar("edu_context", default=Context())  # noqa: B039


def current() -> Context:
    return _current.get()


@contextlib.contextmanager
def bound(ctx: Context) -> Iterator[Context]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def update(**changes) -> Context:
    ctx = replace(_current.get(), **changes)
    _current.set(ctx)
    return ctx


def new_span_id() -> str:
    return secrets.token_hex(8)


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """Trace id and parent span id of a W3C traceparent header, or None when invalid."""
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if not match or match.group(1) == "0" * 32 or match.group(2) == "0" * 16:
        return None
    return match.group(1), match.group(2)


def accept_request_id(value: str | None) -> str:
    """A caller's request id when it is sane, otherwise a new one (never log arbitrary input)."""
    if value and _REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def from_incoming(request_id: str | None, traceparent: str | None) -> Context:
    rid = accept_request_id(request_id)
    parsed = parse_traceparent(traceparent)
    trace_id = parsed[0] if parsed else secrets.token_hex(16)
    return Context(request_id=rid, correlation_id=rid, trace_id=trace_id, span_id=new_span_id())
