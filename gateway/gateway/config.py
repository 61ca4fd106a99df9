"""The gateway's settings, from the environment only. Development defaults (`make run`'s ports)
are marked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from edu_common import settings
from edu_common.config import ConfigError
from edu_common.settings import loopback_url, setting

# Development defaults: the ports of `make run`. Every deployment sets GATEWAY_UPSTREAMS.
DEV_UPSTREAMS = (
    "identity=http://127.0.0.1:8001;applicant=http://127.0.0.1:8002;"
    "kindergarten=http://127.0.0.1:8003;notify=http://127.0.0.1:8004"
)
DEV_JWKS_URL = "http://127.0.0.1:8001/.well-known/jwks.json"


@dataclass(frozen=True)
class Rate:
    """A token bucket: `rate` tokens a second, at most `burst` saved up."""

    rate: float
    burst: float


@dataclass(frozen=True)
class UpstreamConfig:
    name: str  # also the public prefix: /api/<name>/
    instances: tuple[str, ...]
    timeout: float


def rate(raw: str) -> Rate:
    """`RATE/BURST`, e.g. `50/100`: 50 requests a second, bursts of 100."""
    try:
        value, _, burst = raw.partition("/")
        parsed = Rate(float(value), float(burst or value))
    except ValueError as exc:
        raise ValueError("must look like 50/100 (rate per second/burst)") from exc
    if parsed.rate <= 0 or parsed.burst < 1:
        raise ValueError("the rate must be > 0 and the burst >= 1")
    return parsed


def _pairs(raw: str, name: str) -> dict[str, str]:
    """`a=x;b=y` -> {a: x, b: y}."""
    out = {}
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"{name}: expected name=value;..., got {part!r}")
        out[key.strip()] = value.strip()
    return out


def body_limits(raw: str) -> Mapping[str, int]:
    limits = {}
    for name, value in _pairs(raw, "GATEWAY_BODY_LIMITS").items():
        if not value.isdigit():
            raise ValueError(f"{name} is not a number of bytes")
        limits[name] = int(value)
    return MappingProxyType(limits)


def any_loopback_upstream(raw: str) -> bool:
    """An upstream list naming an instance on this machine: `make run`'s, never a deployment's."""
    instances = [u for part in raw.split(";") for u in part.partition("=")[2].split(",")]
    return any(loopback_url(u.strip()) for u in instances if u.strip())


def origins(raw: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


def parse_upstreams(raw: str, timeouts: dict[str, str], default_timeout: float):
    upstreams = []
    for name, urls in _pairs(raw, "GATEWAY_UPSTREAMS").items():
        instances = tuple(u.strip().rstrip("/") for u in urls.split(",") if u.strip())
        for url in instances:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"GATEWAY_UPSTREAMS: {name} has a non-HTTP URL {url!r}")
        try:
            timeout = float(timeouts.get(name, default_timeout))
        except ValueError as exc:
            raise ConfigError(f"GATEWAY_TIMEOUTS: {name} is not a number") from exc
        upstreams.append(UpstreamConfig(name, instances, timeout))
    unknown = set(timeouts) - {u.name for u in upstreams}
    if unknown:
        raise ConfigError(f"GATEWAY_TIMEOUTS names unknown upstreams: {sorted(unknown)}")
    if not upstreams:
        raise ConfigError("GATEWAY_UPSTREAMS names no upstream")
    return tuple(upstreams)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Each field declared once with its variable and default (edu_common.settings)."""

    # Where the services are: `name=url,url;...`; the name is also the public prefix.
    upstream_spec: str = setting("GATEWAY_UPSTREAMS", DEV_UPSTREAMS, dev=any_loopback_upstream)
    upstream_timeouts: str = setting("GATEWAY_TIMEOUTS", "")  # `name=seconds;...`
    upstream_timeout: float = setting("GATEWAY_UPSTREAM_TIMEOUT", 15.0)
    jwks_url: str = setting("IDENTITY_JWKS_URL", DEV_JWKS_URL, dev=loopback_url)
    cors_origins: frozenset[str] = setting("CORS_ORIGINS", frozenset(), parse=origins)
    connect_timeout: float = setting("GATEWAY_CONNECT_TIMEOUT", 2.0)
    retries: int = setting("GATEWAY_RETRIES", 1)
    breaker_failures: int = setting("GATEWAY_BREAKER_FAILURES", 5)
    breaker_open_seconds: float = setting("GATEWAY_BREAKER_OPEN_SECONDS", 10.0)
    eject_seconds: float = setting("GATEWAY_EJECT_SECONDS", 5.0)
    health_interval: float = setting("GATEWAY_HEALTH_INTERVAL", 5.0)
    pool_size: int = setting("GATEWAY_POOL_SIZE", 100)
    # Below the services' own keep-alive (gunicorn: 5 s), so we never reuse a socket the
    # service is closing.
    upstream_keepalive: float = setting("GATEWAY_UPSTREAM_KEEPALIVE_SECONDS", 4.0)
    max_body: int = setting("GATEWAY_MAX_BODY_BYTES", 1024 * 1024)
    # A larger limit for some upstreams (sms-notify's message attachments), e.g. notify=6291456.
    body_limits: Mapping[str, int] = setting(
        "GATEWAY_BODY_LIMITS", MappingProxyType({}), parse=body_limits
    )
    body_timeout: float = setting("GATEWAY_BODY_TIMEOUT", 15.0)
    header_timeout: float = setting("GATEWAY_HEADER_TIMEOUT", 10.0)
    max_header_line: int = setting("GATEWAY_MAX_HEADER_BYTES", 8190)
    max_headers: int = setting("GATEWAY_MAX_HEADERS", 100)
    keepalive: float = setting("GATEWAY_KEEPALIVE_SECONDS", 15.0)
    # Per client address: only high ceilings against floods. One address is often many people
    # (a college's computer room, a school, carrier-grade NAT in front of a mobile network);
    # identity limits each account, phone, e-mail, registration and challenge itself.
    rate_ip: Rate = setting("GATEWAY_RATE_PER_ADDRESS", Rate(100, 300), parse=rate)
    rate_account: Rate = setting("GATEWAY_RATE_PER_ACCOUNT", Rate(20, 60), parse=rate)
    # Per address, the sign-in, code, registration and recovery routes together: a room of
    # thirty registering at once (about 270 requests) fits in the burst.
    rate_sensitive: Rate = setting("GATEWAY_RATE_SENSITIVE", Rate(10, 300), parse=rate)
    # Per target of one of those routes (a registration, an IIN signing in, an e-mail, a
    # challenge; public.py says which), whatever address it comes from.
    rate_target: Rate = setting("GATEWAY_RATE_SENSITIVE_TARGET", Rate(0.2, 10), parse=rate)
    # The proxies in front of the gateway (an Ingress: 1) whose X-Forwarded-For is believed.
    trusted_proxies: int = setting("GATEWAY_TRUSTED_PROXIES", 0)
    jwks_refresh_seconds: float = setting("GATEWAY_JWKS_REFRESH_SECONDS", 300.0)
    token_cache_size: int = setting("GATEWAY_TOKEN_CACHE_SIZE", 50_000)
    jwks_min_refetch_seconds: float = setting("GATEWAY_JWKS_MIN_REFETCH_SECONDS", 10.0)
    openapi_cache_seconds: float = setting("GATEWAY_OPENAPI_CACHE_SECONDS", 60.0)
    upstreams: tuple[UpstreamConfig, ...] = field(init=False)

    def __post_init__(self):
        # Parsed once, at start: a wrong upstream list stops the gateway before it serves.
        parsed = parse_upstreams(
            self.upstream_spec,
            _pairs(self.upstream_timeouts, "GATEWAY_TIMEOUTS"),
            self.upstream_timeout,
        )
        object.__setattr__(self, "upstreams", parsed)


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings from the environment; with EDU_ENV=production a development default is a
    ConfigError naming it (the shared ``refuse_development_defaults``)."""
    return settings.load(Settings, environ)
