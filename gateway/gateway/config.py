"""Settings from the environment only. Development defaults (`make run`'s ports) are marked."""

from __future__ import annotations

from dataclasses import dataclass, field

from edu_common.config import ConfigError, env, env_float, env_int

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


@dataclass(frozen=True)
class Settings:
    upstreams: tuple[UpstreamConfig, ...]
    jwks_url: str
    cors_origins: frozenset[str] = frozenset()
    connect_timeout: float = 2.0
    retries: int = 1
    breaker_failures: int = 5
    breaker_open_seconds: float = 10.0
    eject_seconds: float = 5.0
    health_interval: float = 5.0
    pool_size: int = 100
    upstream_keepalive: float = 4.0
    max_body: int = 1024 * 1024
    # A larger limit for some upstreams (sms-notify's message attachments), e.g. notify=6291456.
    body_limits: dict[str, int] = field(default_factory=dict)
    body_timeout: float = 15.0
    header_timeout: float = 10.0
    max_header_line: int = 8190
    max_headers: int = 100
    keepalive: float = 15.0
    rate_ip: Rate = Rate(50, 100)
    rate_account: Rate = Rate(20, 60)
    rate_sensitive: Rate = Rate(0.2, 10)
    trusted_proxies: int = 0
    jwks_refresh_seconds: float = 300.0
    token_cache_size: int = 50_000
    jwks_min_refetch_seconds: float = 10.0
    openapi_cache_seconds: float = 60.0


def _rate(name: str, default: Rate) -> Rate:
    """`RATE/BURST`, e.g. `50/100`: 50 requests a second, bursts of 100."""
    raw = env(name)
    if raw is None:
        return default
    try:
        rate, _, burst = raw.partition("/")
        parsed = Rate(float(rate), float(burst or rate))
    except ValueError as exc:
        raise ConfigError(f"{name} must look like 50/100 (rate per second/burst)") from exc
    if parsed.rate <= 0 or parsed.burst < 1:
        raise ConfigError(f"{name}: the rate must be > 0 and the burst >= 1")
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


def _body_limits(raw: str) -> dict[str, int]:
    limits = {}
    for name, value in _pairs(raw, "GATEWAY_BODY_LIMITS").items():
        if not value.isdigit():
            raise ConfigError(f"GATEWAY_BODY_LIMITS: {name} is not a number of bytes")
        limits[name] = int(value)
    return limits


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


def load() -> Settings:
    default_timeout = env_float("GATEWAY_UPSTREAM_TIMEOUT", 15.0)
    origins = env("CORS_ORIGINS", "") or ""
    return Settings(
        upstreams=parse_upstreams(
            env("GATEWAY_UPSTREAMS", DEV_UPSTREAMS),
            _pairs(env("GATEWAY_TIMEOUTS", "") or "", "GATEWAY_TIMEOUTS"),
            default_timeout,
        ),
        jwks_url=env("IDENTITY_JWKS_URL", DEV_JWKS_URL),
        cors_origins=frozenset(o.strip().rstrip("/") for o in origins.split(",") if o.strip()),
        connect_timeout=env_float("GATEWAY_CONNECT_TIMEOUT", 2.0),
        retries=env_int("GATEWAY_RETRIES", 1),
        breaker_failures=env_int("GATEWAY_BREAKER_FAILURES", 5),
        breaker_open_seconds=env_float("GATEWAY_BREAKER_OPEN_SECONDS", 10.0),
        eject_seconds=env_float("GATEWAY_EJECT_SECONDS", 5.0),
        health_interval=env_float("GATEWAY_HEALTH_INTERVAL", 5.0),
        pool_size=env_int("GATEWAY_POOL_SIZE", 100),
        # Below the services' own keep-alive (gunicorn: 5 s), so we never reuse a socket
        # the service is closing.
        upstream_keepalive=env_float("GATEWAY_UPSTREAM_KEEPALIVE_SECONDS", 4.0),
        max_body=env_int("GATEWAY_MAX_BODY_BYTES", 1024 * 1024),
        body_limits=_body_limits(env("GATEWAY_BODY_LIMITS", "") or ""),
        body_timeout=env_float("GATEWAY_BODY_TIMEOUT", 15.0),
        header_timeout=env_float("GATEWAY_HEADER_TIMEOUT", 10.0),
        max_header_line=env_int("GATEWAY_MAX_HEADER_BYTES", 8190),
        max_headers=env_int("GATEWAY_MAX_HEADERS", 100),
        keepalive=env_float("GATEWAY_KEEPALIVE_SECONDS", 15.0),
        rate_ip=_rate("GATEWAY_RATE_PER_ADDRESS", Rate(50, 100)),
        rate_account=_rate("GATEWAY_RATE_PER_ACCOUNT", Rate(20, 60)),
        rate_sensitive=_rate("GATEWAY_RATE_SENSITIVE", Rate(0.2, 10)),
        trusted_proxies=env_int("GATEWAY_TRUSTED_PROXIES", 0),
        jwks_refresh_seconds=env_float("GATEWAY_JWKS_REFRESH_SECONDS", 300.0),
        token_cache_size=env_int("GATEWAY_TOKEN_CACHE_SIZE", 50_000),
        jwks_min_refetch_seconds=env_float("GATEWAY_JWKS_MIN_REFETCH_SECONDS", 10.0),
        openapi_cache_seconds=env_float("GATEWAY_OPENAPI_CACHE_SECONDS", 60.0),
    )
