"""Forwarding one request to an upstream: instance choice, retries, timeouts, the breaker."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from gateway import metrics
from gateway.problems import GatewayProblem
from gateway.upstreams import IDEMPOTENT, Instance, Upstream

# Never forwarded in either direction: they describe one connection, not the message.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
        "expect",  # the body is already read: no 100-continue dance with the upstream
    }
)
# Set by the gateway itself; a client's own values would be spoofing.
SET_BY_GATEWAY = frozenset(
    {
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-prefix",
        "x-real-ip",
        "forwarded",
        "x-request-id",
        "traceparent",
    }
)
_DROP_REQUEST = HOP_BY_HOP | SET_BY_GATEWAY
# The gateway answers with its own Date and Server; CORS (access-control-*, dropped below) is
# the gateway's policy, so the services' own answers about it are not passed on.
_DROP_RESPONSE = HOP_BY_HOP | {"server", "date"}


def request_headers(incoming, extra: dict[str, str]) -> CIMultiDict:
    connection_named = {
        h.strip().lower() for v in incoming.getall("Connection", ()) for h in v.split(",")
    }
    out = CIMultiDict()
    for key, value in incoming.items():
        lower = key.lower()
        if lower in _DROP_REQUEST or lower in connection_named:
            continue
        out.add(key, value)
    out.update(extra)
    return out


def response_headers(upstream_headers) -> CIMultiDict:
    out = CIMultiDict()
    for key, value in upstream_headers.items():
        lower = key.lower()
        if lower in _DROP_RESPONSE or lower.startswith("access-control-"):
            continue
        out.add(key, value)
    return out


class Attempt:
    """What happened, for the access log."""

    __slots__ = ("attempts", "instance")

    def __init__(self):
        self.instance: Instance | None = None
        self.attempts = 0


async def forward(
    upstream: Upstream,
    method: str,
    target: str,
    headers: CIMultiDict,
    body: bytes,
    *,
    retries: int,
    eject_seconds: float,
    attempt: Attempt,
) -> web.Response:
    breaker = upstream.breaker
    if not breaker.allow():
        metrics.REJECTED.labels("breaker_open").inc()
        raise GatewayProblem(
            503,
            "service_unavailable",
            f"{upstream.name} is failing; the gateway is holding requests back for a moment.",
            headers={"Retry-After": str(breaker.retry_after())},
        )
    session = upstream.session
    assert session is not None
    candidates = upstream.candidates()
    tries = 1 + max(0, retries) if method in IDEMPOTENT else 1
    verdict = False
    try:
        for n in range(tries):
            instance = candidates[n % len(candidates)]
            attempt.instance = instance
            attempt.attempts = n + 1
            url = URL(instance.url + target, encoded=True)
            try:
                async with session.request(
                    method, url, headers=headers, data=body or None, allow_redirects=False
                ) as resp:
                    payload = await resp.read()
                    status = resp.status
                    out_headers = response_headers(resp.headers)
            except aiohttp.ConnectionTimeoutError:
                _connect_failed(upstream, instance, "connect_timeout", eject_seconds)
                continue
            except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
                metrics.UPSTREAM_ERRORS.labels(upstream.name, "timeout").inc()
                breaker.failure()
                verdict = True
                raise GatewayProblem(
                    504, "upstream_timeout", f"{upstream.name} did not answer in time."
                ) from exc
            except aiohttp.ClientConnectionError:
                _connect_failed(upstream, instance, "connect", eject_seconds)
                continue
            except aiohttp.ClientError as exc:
                # The service answered something that is not HTTP we can pass on.
                metrics.UPSTREAM_ERRORS.labels(upstream.name, "protocol").inc()
                breaker.failure()
                verdict = True
                raise GatewayProblem(502, "bad_gateway") from exc
            if status in (502, 503, 504):
                metrics.UPSTREAM_ERRORS.labels(upstream.name, f"status_{status}").inc()
                breaker.failure()
            else:
                breaker.success()
                if instance.failures:
                    instance.restore()
            verdict = True
            return web.Response(status=status, body=payload, headers=out_headers)
        breaker.failure()
        verdict = True
        raise GatewayProblem(502, "bad_gateway", f"{upstream.name} could not be reached.")
    finally:
        if not verdict:
            breaker.release()  # cancelled (the client left): no verdict on the upstream


def _connect_failed(upstream: Upstream, instance: Instance, kind: str, seconds: float) -> None:
    metrics.UPSTREAM_ERRORS.labels(upstream.name, kind).inc()
    instance.eject(seconds)
