"""One JSON line per request, in the shape of edu_common's JsonFormatter (ts, level, service,
logger, msg, request_id, trace_id and the fields), written straight to stderr.

The profile showed the generic path (a LogRecord, then the formatter's recursive redaction of
every extra field) costing more than the rest of the gateway's own code per request; these
fields are few and ours, so they are made safe here once: never the query string, headers or
bodies (where tokens, passwords and codes travel), ids in paths as {id}, IINs masked.
`LOG_LEVEL=WARNING` (logger `access`) turns the lines off.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import sys

from edu_common import context
from edu_common.logs import redact_text

log = logging.getLogger("access")

# Ids in paths become {id}, so a route is a stable, low-cardinality name (and no IIN leaks).
_ID_SEGMENT = re.compile(r"/(?:[0-9a-fA-F-]{16,}|\d+|[A-Za-z0-9_-]{20,})(?=/|$)")
_UTC = dt.UTC


def route_of(prefix: str, path: str) -> str:
    return redact_text(prefix + _ID_SEGMENT.sub("/{id}", path))


def write(
    *,
    method: str,
    route: str,
    status: int,
    latency: float,
    upstream: str | None,
    client: str | None,
    instance: str | None = None,
    attempts: int = 0,
) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    ctx = context.current()
    line = {
        "ts": dt.datetime.now(_UTC).isoformat(timespec="milliseconds"),
        "level": "info",
        "service": "gateway",
        "logger": "access",
        "msg": f"{method} {route} {status}",
        "request_id": ctx.request_id,
        "trace_id": ctx.trace_id,
        "method": method,
        "route": route,
        "status": status,
        "latency_ms": round(latency * 1000, 2),
        "upstream": upstream,
        "instance": instance,
        "attempts": attempts,
        "client": client,
    }
    # A closed or broken stderr must not fail the request.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(json.dumps(line, ensure_ascii=False) + "\n")
