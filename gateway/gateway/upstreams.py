"""Upstreams: each service's instances, keep-alive pools, ejection of failing instances,
active health checks, per-upstream timeouts and circuit breakers."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from dataclasses import dataclass, field

import aiohttp

from gateway import metrics
from gateway.breaker import OPEN, STATE_VALUE, CircuitBreaker
from gateway.config import Settings, UpstreamConfig

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass
class Instance:
    upstream: str
    url: str
    down_until: float = 0.0  # taken out of rotation until then (monotonic)
    failures: int = 0
    ready: bool | None = None  # the last active health check; None before the first

    def available(self, now: float) -> bool:
        return self.down_until <= now

    def eject(self, seconds: float) -> None:
        # Growing back-off for an instance that keeps failing, capped at 8x.
        self.failures += 1
        self.down_until = time.monotonic() + seconds * min(8, 2 ** (self.failures - 1))
        metrics.INSTANCE_UP.labels(self.upstream, self.url).set(0)

    def restore(self) -> None:
        if self.failures or self.down_until:
            self.failures = 0
            self.down_until = 0.0
        metrics.INSTANCE_UP.labels(self.upstream, self.url).set(1)


@dataclass
class Upstream:
    config: UpstreamConfig
    instances: list[Instance]
    breaker: CircuitBreaker
    session: aiohttp.ClientSession | None = None
    _turn: itertools.count = field(default_factory=itertools.count)

    @property
    def name(self) -> str:
        return self.config.name

    def candidates(self) -> list[Instance]:
        """Instances in the order to try: round-robin over those in rotation; if every one is
        out, all of them (better a try than a certain failure)."""
        now = time.monotonic()
        pool = [i for i in self.instances if i.available(now)] or list(self.instances)
        start = next(self._turn) % len(pool)
        return pool[start:] + pool[:start]

    def ready(self) -> bool:
        now = time.monotonic()
        return self.breaker.state != OPEN and any(
            i.available(now) and i.ready is not False for i in self.instances
        )


class Upstreams:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.by_name: dict[str, Upstream] = {}
        for cfg in settings.upstreams:
            breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_open_seconds)
            gauge = metrics.BREAKER_STATE.labels(cfg.name)
            breaker.on_change = lambda state, g=gauge, n=cfg.name: _breaker_changed(n, state, g)
            gauge.set(0)
            self.by_name[cfg.name] = Upstream(
                cfg, [Instance(cfg.name, url) for url in cfg.instances], breaker
            )
        self._tasks: list[asyncio.Task] = []
        self.client: aiohttp.ClientSession | None = None  # JWKS, OpenAPI, health checks

    async def start(self) -> None:
        for upstream in self.by_name.values():
            connector = aiohttp.TCPConnector(
                limit=0,
                limit_per_host=self.settings.pool_size,
                keepalive_timeout=self.settings.upstream_keepalive,
                ttl_dns_cache=10,  # pods come and go behind a name
                enable_cleanup_closed=False,
            )
            upstream.session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # bodies pass through as the service encoded them
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),  # a proxy never keeps cookies
                timeout=aiohttp.ClientTimeout(
                    total=upstream.config.timeout,
                    sock_connect=self.settings.connect_timeout,
                ),
            )
            for instance in upstream.instances:
                metrics.INSTANCE_UP.labels(upstream.name, instance.url).set(1)
        self.client = aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=5)
        )
        self._tasks.append(asyncio.create_task(self._health_loop()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for upstream in self.by_name.values():
            if upstream.session is not None:
                await upstream.session.close()
        if self.client is not None:
            await self.client.close()

    async def check_all(self) -> None:
        checks = [self._check(i) for u in self.by_name.values() for i in u.instances]
        await asyncio.gather(*checks)

    async def _check(self, instance: Instance) -> None:
        """An instance's /healthz: takes it out when it does not answer, back when it does."""
        assert self.client is not None
        try:
            timeout = aiohttp.ClientTimeout(total=min(2.0, self.settings.health_interval))
            async with self.client.get(f"{instance.url}/healthz", timeout=timeout) as resp:
                ok = resp.status == 200
                await resp.read()
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        was = instance.ready
        instance.ready = ok
        if ok and (instance.down_until or was is False):
            instance.restore()
        elif not ok and instance.available(time.monotonic()):
            instance.eject(self.settings.health_interval)
        if was is not None and was != ok:
            log.warning(
                "upstream instance %s %s",
                instance.url,
                "is back" if ok else "does not answer",
                extra={"upstream": instance.upstream},
            )

    async def _health_loop(self) -> None:
        while True:
            try:
                await self.check_all()
            except Exception:  # the loop must outlive any single bad check
                log.exception("health checks failed")
            await asyncio.sleep(self.settings.health_interval)


def _breaker_changed(name: str, state: str, gauge) -> None:
    gauge.set(STATE_VALUE[state])
    log.warning("circuit breaker of %s is %s", name, state, extra={"upstream": name})
