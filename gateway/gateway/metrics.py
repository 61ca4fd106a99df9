"""Prometheus metrics; several gunicorn workers share them through PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "gateway_requests_total", "Requests answered by the gateway", ["method", "upstream", "status"]
)
LATENCY = Histogram(
    "gateway_request_duration_seconds",
    "Time from the request's arrival to the answer, by upstream",
    ["upstream"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UPSTREAM_ERRORS = Counter(
    "gateway_upstream_errors_total",
    "Failed attempts to reach an upstream (connect, timeout, 502-504 answers)",
    ["upstream", "kind"],
)
REJECTED = Counter("gateway_rejected_total", "Requests refused by the gateway itself", ["reason"])
# 0 closed, 1 half-open, 2 open; per worker process, so the maximum over workers is shown.
BREAKER_STATE = Gauge(
    "gateway_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open",
    ["upstream"],
    multiprocess_mode="max",
)
INSTANCE_UP = Gauge(
    "gateway_upstream_instance_up",
    "Whether an upstream instance is in rotation (1) or taken out (0)",
    ["upstream", "instance"],
    multiprocess_mode="min",
)


_request_children: dict[tuple, tuple] = {}


def observe_request(method: str, upstream: str, status: int, seconds: float) -> None:
    """Count and time one request; label lookups are cached (they cost ~7 µs each)."""
    key = (method, upstream, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(method, upstream, status), LATENCY.labels(upstream))
        if len(_request_children) < 10_000:
            _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
