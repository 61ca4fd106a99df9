"""The gateway's composition root and its one request handler.

Everything goes through `Gateway.handle`: one catch-all route instead of aiohttp's router and
middlewares, because routing must use the normalised raw path (not aiohttp's decoded one) and
every layer of middleware costs time on each request.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import secrets
import time

from aiohttp import web

from edu_common import context, logs
from edu_common.config import env
from edu_common.settings import refuse_development_defaults
from edu_common.web.problems import Problem
from gateway import access_log, metrics, openapi, proxy
from gateway.auth import AsyncJwksKeys, Authenticator, bearer
from gateway.config import Settings, load
from gateway.paths import BadPath, normalise, split_target
from gateway.problems import GatewayProblem, problem
from gateway.public import PublicRoutes, Route
from gateway.ratelimit import TokenBuckets, retry_after_header
from gateway.upstreams import Upstreams

log = logging.getLogger("gateway")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
CORS_ALLOW_HEADERS = (
    "Authorization, Content-Type, Accept-Language, Idempotency-Key, X-Request-Id, "
    "traceparent, tracestate"
)
_CORS_ALLOWED = frozenset(h.strip().lower() for h in CORS_ALLOW_HEADERS.split(","))
CORS_EXPOSE_HEADERS = "X-Request-Id, traceparent, Retry-After, Location, Content-Disposition"
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


class _State:
    """One request's facts for the access log and metrics."""

    __slots__ = ("attempt", "client", "route", "upstream")

    def __init__(self):
        self.client: str | None = None
        self.upstream: str | None = None
        self.route: str = "unmatched"
        self.attempt = proxy.Attempt()


class Gateway:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.upstreams = Upstreams(settings)
        self.keys = AsyncJwksKeys(settings.jwks_url, min_refetch=settings.jwks_min_refetch_seconds)
        self.auth = Authenticator(self.keys, cache_size=settings.token_cache_size)
        self.public = PublicRoutes()
        self.per_address = TokenBuckets(settings.rate_ip)
        self.per_account = TokenBuckets(settings.rate_account)
        self.sensitive = TokenBuckets(settings.rate_sensitive)
        self.per_target = TokenBuckets(settings.rate_target)
        # Targets (IINs, e-mails, refresh tokens) are kept as keyed hashes, never as they came.
        self._target_key = secrets.token_bytes(16)
        self.docs = openapi.Docs(self.upstreams, settings.openapi_cache_seconds)
        self._tasks: list[asyncio.Task] = []

    # --- lifecycle -------------------------------------------------------------------------
    async def startup(self, _app: web.Application) -> None:
        await self.upstreams.start()
        self._tasks.append(asyncio.create_task(self._jwks_loop()))

    async def cleanup(self, _app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.upstreams.close()

    async def _jwks_loop(self) -> None:
        """Keys at start (retrying, 1 s growing to 30 s, until identity answers), then on an
        interval."""
        assert self.upstreams.client is not None
        pause = 1.0
        while not await self.keys.refresh(self.upstreams.client, force=True):
            await asyncio.sleep(pause)
            pause = min(30.0, pause * 2)
        while True:
            await asyncio.sleep(self.settings.jwks_refresh_seconds)
            await self.keys.refresh(self.upstreams.client, force=True)

    # --- the request -----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        headers = request.headers
        ctx = context.from_incoming(headers.get("X-Request-Id"), headers.get("traceparent"))
        state = _State()
        with context.bound(ctx):
            try:
                resp = await self._dispatch(request, ctx, state)
            except GatewayProblem as exc:
                resp = exc.response(headers.get("Accept-Language"))
            except Problem as exc:  # from the token verifier
                metrics.REJECTED.labels(exc.code).inc()
                resp = problem(
                    exc.status,
                    exc.code,
                    exc.detail,
                    accept_language=headers.get("Accept-Language"),
                    headers={"WWW-Authenticate": f'Bearer error="{exc.code}"'}
                    if exc.status == 401
                    else None,
                )
            except web.HTTPRequestEntityTooLarge:
                metrics.REJECTED.labels("body_too_large").inc()
                resp = problem(413, accept_language=headers.get("Accept-Language"))
            except Exception:
                log.exception("unhandled error")
                resp = problem(
                    500, "internal_error", accept_language=headers.get("Accept-Language")
                )
            if resp.status in (408, 413):
                resp.force_close()  # the rest of the body is still on its way: drop it
            self._finish(request, resp, ctx, state)
            path = state.route
            if path not in _PROBES:
                elapsed = time.perf_counter() - started
                label = state.upstream or "gateway"
                method = request.method if request.method in _METHODS else "other"
                metrics.observe_request(method, label, resp.status, elapsed)
                instance = state.attempt.instance
                access_log.write(
                    method=method,
                    route=state.route,
                    status=resp.status,
                    latency=elapsed,
                    upstream=state.upstream,
                    instance=instance.url if instance else None,
                    attempts=state.attempt.attempts,
                    client=state.client or self.client_address(request),
                )
        return resp

    async def _dispatch(self, request: web.Request, ctx, state: _State) -> web.StreamResponse:
        try:
            raw_path, query = split_target(request.raw_path)
            path = normalise(raw_path)
        except BadPath:
            metrics.REJECTED.labels("bad_path").inc()
            raise GatewayProblem(400, "bad_path", "The path is not allowed.") from None
        if not path.startswith("/api/"):
            state.route = "/docs" if path.startswith("/docs") else path
            if state.route not in _LOCAL_ROUTES:
                state.route = "unmatched"
            return await self._local(request, path)
        _, _, rest = path[len("/api/") :].partition("/")
        name = path[len("/api/") :].partition("/")[0]
        upstream = self.upstreams.by_name.get(name)
        if upstream is None:
            raise GatewayProblem(404, "not_found", "No service answers at this address.")
        service_path = "/" + rest
        state.upstream = name
        state.route = access_log.route_of(f"/api/{name}", service_path)
        if service_path == "/internal" or service_path.startswith("/internal/"):
            # Between services only (identity's account look-up): never from outside.
            raise GatewayProblem(404, "not_found", "No service answers at this address.")
        method = request.method
        client = state.client = self.client_address(request)

        if wait := self.per_address.take(client):
            raise self._too_many("address", wait)
        if method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return self._preflight(request)
        length = request.content_length
        max_body = self.settings.body_limits.get(name, self.settings.max_body)
        if length is not None and length > max_body:
            metrics.REJECTED.labels("body_too_large").inc()
            raise GatewayProblem(413, "payload_too_large")

        route = self.public.match(name, method, service_path)
        if route is not None:
            if route.sensitive and (wait := self.sensitive.take(client)):
                raise self._too_many("sensitive", wait)
        else:
            token = bearer(request.headers.get("Authorization"))
            if token is None:
                metrics.REJECTED.labels("no_token").inc()
                raise GatewayProblem(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
            assert self.upstreams.client is not None
            principal = await self.auth.principal(token, self.upstreams.client)
            if wait := self.per_account.take(principal.account_id):
                raise self._too_many("account", wait)

        body = b""
        if request.body_exists:
            try:
                async with asyncio.timeout(self.settings.body_timeout):
                    body = await request.read()
                if len(body) > max_body:  # a chunked body has no length to check first
                    raise web.HTTPRequestEntityTooLarge(max_size=max_body, actual_size=len(body))
            except TimeoutError:
                metrics.REJECTED.labels("slow_body").inc()
                raise GatewayProblem(408, "request_timeout") from None
        if route is not None and route.sensitive:
            key = self._target(route, service_path, body)
            if key is not None and (wait := self.per_target.take(key)):
                raise self._too_many("target", wait)

        forwarded = {
            "X-Forwarded-For": self._forwarded_for(request),
            "X-Forwarded-Proto": self.scheme(request),
            "X-Forwarded-Prefix": f"/api/{name}",
            "X-Request-Id": ctx.request_id,
            "traceparent": ctx.traceparent,
        }
        if request.host:
            forwarded["X-Forwarded-Host"] = request.host
        target = service_path + ("?" + query if query else "")
        return await proxy.forward(
            upstream,
            method,
            target,
            proxy.request_headers(request.headers, forwarded),
            body,
            retries=self.settings.retries,
            eject_seconds=self.settings.eject_seconds,
            attempt=state.attempt,
        )

    # --- local routes ----------------------------------------------------------------------
    async def _local(self, request: web.Request, path: str) -> web.StreamResponse:
        method = request.method
        local = path in _LOCAL_ROUTES or path.startswith("/docs/static/")
        if local and method not in ("GET", "HEAD"):
            raise GatewayProblem(405, "method_not_allowed", headers={"Allow": "GET, HEAD"})
        if path == "/healthz":
            return web.json_response({"status": "ok"})
        if path == "/readyz":
            return self._readyz()
        if path == "/metrics":
            body, content_type = metrics.render()
            return web.Response(body=body, headers={"Content-Type": content_type})
        if path == "/openapi.json":
            if wait := self.per_address.take(self.client_address(request)):
                raise self._too_many("address", wait)
            return await self.docs.merged_response()
        if path in ("/docs", "/docs/"):
            return self.docs.page()
        if path.startswith("/docs/static/"):
            return self.docs.static(path[len("/docs/static/") :])
        raise GatewayProblem(404, "not_found", "No service answers at this address.")

    def _readyz(self) -> web.Response:
        upstreams = {
            name: {
                "ready": u.ready(),
                "breaker": u.breaker.state,
                "instances": [
                    {"url": i.url, "in_rotation": i.available(time.monotonic()), "healthy": i.ready}
                    for i in u.instances
                ],
            }
            for name, u in self.upstreams.by_name.items()
        }
        keys = bool(self.keys.keys)
        body = {"status": "ready" if keys else "not_ready", "jwks": keys, "upstreams": upstreams}
        # Only the keys gate readiness: one service down must not take the whole gateway (and
        # every other service's traffic) out of the load balancer.
        if keys:
            return web.json_response(body)
        return problem(503, "not_ready", checks=body)

    # --- helpers ---------------------------------------------------------------------------
    def client_address(self, request: web.Request) -> str:
        """The client's address: the TCP peer, or with N trusted proxies in front, the N-th
        address from the right of X-Forwarded-For (what the outermost trusted proxy saw).
        Anything left of it is the client's own say and is never believed."""
        hops = self.settings.trusted_proxies
        if hops > 0:
            chain = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")]
            chain = [a for a in chain if a]
            if len(chain) >= hops and (address := _address(chain[-hops])):
                return address
        return request.remote or "unknown"

    def _forwarded_for(self, request: web.Request) -> str:
        """What the services are told: exactly the client's address as determined here, one
        entry, so each service trusts one hop (the gateway) whatever stands in front of it."""
        return self.client_address(request)

    def _target(self, route: Route, path: str, body: bytes) -> str | None:
        target = route.target_of(path, body)
        if target is None:
            return None
        name = f"{route.upstream} {route.method} {route.pattern}\0{target}".encode()
        return hashlib.blake2b(name, key=self._target_key, digest_size=16).hexdigest()

    def scheme(self, request: web.Request) -> str:
        if self.settings.trusted_proxies:
            proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
            if proto in ("http", "https"):
                return proto
        return "https" if request.secure else "http"

    def _too_many(self, scope: str, wait: float) -> GatewayProblem:
        metrics.REJECTED.labels(f"rate_{scope}").inc()
        return GatewayProblem(
            429, "too_many_requests", headers={"Retry-After": retry_after_header(wait)}
        )

    def _preflight(self, request: web.Request) -> web.Response:
        origin = request.headers.get("Origin", "").rstrip("/")
        if origin not in self.settings.cors_origins:
            metrics.REJECTED.labels("cors").inc()
            raise GatewayProblem(403, "cors_origin_not_allowed")
        asked = request.headers.get("Access-Control-Request-Headers", "")
        allowed = [h.strip() for h in asked.split(",") if h.strip().lower() in _CORS_ALLOWED]
        headers = {
            "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
            "Access-Control-Max-Age": "600",
        }
        if allowed:
            headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
        return web.Response(status=204, headers=headers)

    def _finish(self, request: web.Request, resp: web.StreamResponse, ctx, state) -> None:
        h = resp.headers
        h["X-Request-Id"] = ctx.request_id
        h["Server"] = "edu-gateway"  # not aiohttp's, which names its and Python's versions
        if "traceparent" not in h:
            h["traceparent"] = ctx.traceparent
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Content-Security-Policy", DOCS_CSP if state.route == "/docs" else API_CSP)
        if self.scheme(request) == "https":
            h["Strict-Transport-Security"] = HSTS
        origin = request.headers.get("Origin")
        if origin and origin.rstrip("/") in self.settings.cors_origins:
            h["Access-Control-Allow-Origin"] = origin
            h["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
            h.add("Vary", "Origin")


_LOCAL_ROUTES = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})


def _address(raw: str) -> str | None:
    """An IP address from an X-Forwarded-For entry (a port, IPv6 brackets dropped); None if it
    is not one."""
    value = raw.strip()
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 203.0.113.7:443
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or load()
    refuse_development_defaults(settings)  # in production, before anything is served
    logs.configure("gateway", env("LOG_LEVEL", "INFO"))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    gateway = Gateway(settings)
    app = web.Application(
        client_max_size=max([settings.max_body, *settings.body_limits.values()]),
        handler_args={
            "max_line_size": settings.max_header_line,
            "max_field_size": settings.max_header_line,
            "max_headers": settings.max_headers,
        },
    )
    app["gateway"] = gateway
    app.on_startup.append(gateway.startup)
    app.on_cleanup.append(gateway.cleanup)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app
