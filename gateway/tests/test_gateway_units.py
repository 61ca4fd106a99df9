"""The pure pieces, without processes: paths, breaker, buckets, configuration, OpenAPI merge."""

from __future__ import annotations

import pytest

from edu_common.config import ConfigError
from edu_common.settings import refuse_development_defaults
from gateway import config
from gateway.app import _address
from gateway.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from gateway.openapi import merge
from gateway.paths import BadPath, normalise
from gateway.public import PublicRoutes
from gateway.ratelimit import TokenBuckets


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/api/identity/me", "/api/identity/me"),
        ("//api///identity//me", "/api/identity/me"),
        ("/api/identity/./me/", "/api/identity/me/"),
        ("/api/kindergarten/../identity/me", "/api/identity/me"),
        ("/api/kindergarten/%2e%2E/identity/me", "/api/identity/me"),
        ("/", "/"),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["/..", "/api/../../x", "/a%2Fb", "/a%5cb", "/a\\b", "/a%00", "/a b", "api/x", "/a\x7f"],
)
def test_normalise_refuses(raw):
    with pytest.raises(BadPath):
        normalise(raw)


def test_breaker_opens_lets_one_trial_through_and_closes():
    clock = Clock()
    changes = []
    b = CircuitBreaker(3, 10, clock=clock)
    b.on_change = changes.append
    for _ in range(2):
        assert b.allow()
        b.failure()
    assert b.state == CLOSED
    assert b.allow()
    b.failure()
    assert b.state == OPEN and not b.allow() and b.retry_after() == 10
    clock.now += 10
    assert b.allow() and b.state == HALF_OPEN
    assert not b.allow()  # only one trial at a time
    b.failure()
    assert b.state == OPEN
    clock.now += 10
    assert b.allow()
    b.success()
    assert b.state == CLOSED and b.allow()
    assert changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_a_success_resets_the_count():
    b = CircuitBreaker(2, 10, clock=Clock())
    b.failure()
    b.success()
    b.failure()
    assert b.state == CLOSED


def test_token_bucket():
    clock = Clock()
    buckets = TokenBuckets(config.Rate(1, 3), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0  # another key has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0


def test_token_buckets_forget_idle_keys_when_full():
    clock = Clock()
    buckets = TokenBuckets(config.Rate(1, 2), max_keys=10, clock=clock)
    for i in range(10):
        buckets.take(f"k{i}")
    clock.now += 5  # all full again: nothing lost by forgetting them
    buckets.take("new")
    assert len(buckets._buckets) == 1


def test_upstreams_configuration():
    ups = config.parse_upstreams(
        "identity=http://a:1, http://b:2/ ; notify=http://c:3", {"notify": "2.5"}, 15.0
    )
    assert [(u.name, u.instances, u.timeout) for u in ups] == [
        ("identity", ("http://a:1", "http://b:2"), 15.0),
        ("notify", ("http://c:3",), 2.5),
    ]
    for bad, timeouts in [
        ("identity", {}),
        ("x=ftp://a", {}),
        ("", {}),
        ("a=http://a", {"b": "1"}),
    ]:
        with pytest.raises(ConfigError):
            config.parse_upstreams(bad, timeouts, 15.0)


def test_rates_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_RATE_SENSITIVE", "0.5/4")
    monkeypatch.setenv("GATEWAY_UPSTREAMS", "identity=http://x:1")
    assert config.load().rate_sensitive == config.Rate(0.5, 4)
    monkeypatch.setenv("GATEWAY_RATE_SENSITIVE", "lots")
    with pytest.raises(ConfigError):
        config.load()


def test_public_routes():
    public = PublicRoutes()
    assert public.match("identity", "POST", "/sessions").sensitive
    assert public.match("identity", "GET", "/registrations/abc") is not None
    assert public.match("identity", "HEAD", "/.well-known/jwks.json") is not None
    assert public.match("identity", "GET", "/registrations/abc/extra") is None
    assert public.match("identity", "GET", "/me") is None
    assert public.match("identity", "DELETE", "/sessions") is None
    assert public.match("kindergarten", "POST", "/sessions") is None
    # Every step of registration, the IIN's and the phone's proofs included.
    for step in ("person/code", "person/eds-challenge", "person/confirm", "contacts/code",
                 "contacts/confirm", "email/confirm", "complete"):  # fmt: skip
        route = public.match("identity", "POST", f"/registrations/r-1/{step}")
        assert route.sensitive and route.target_of(f"/registrations/r-1/{step}", b"") == "r-1"
    # Providers call back without a token: their signature is checked by sms-notify.
    assert public.match("notify", "POST", "/providers/payments/callback") is not None
    assert public.match("notify", "POST", "/providers/smsc/delivery-reports") is not None
    assert public.match("notify", "GET", "/providers/payments/callback") is None
    assert public.match("notify", "POST", "/balance/top-ups") is None


def test_sensitive_routes_name_their_target():
    public = PublicRoutes()
    confirm = public.match("identity", "POST", "/registrations/reg-1/email/confirm")
    assert confirm.target_of("/registrations/reg-1/email/confirm", b"") == "reg-1"
    sign_in = public.match("identity", "POST", "/sessions")
    assert sign_in.target_of("/sessions", b'{"iin": " 880714327312 ", "password": "x"}') == (
        "iin:880714327312"
    )
    register = public.match("identity", "POST", "/registrations")
    one = register.target_of("/registrations", b'{"email": "Aigerim@Example.kz"}')
    assert one == register.target_of("/registrations", b'{"email": "aigerim@example.kz"}')
    # No target to be told: only the per-address ceiling applies to it.
    for body in (b"", b"not json", b"[1, 2]", b'{"iin": 12}', b'{"iin": ""}', b"\xff"):
        assert sign_in.target_of("/sessions", body) is None
    challenge = public.match("identity", "POST", "/eds/challenges")
    assert challenge.target_of("/eds/challenges", b"{}") is None


def test_defaults_are_ceilings_for_shared_addresses():
    """One address is often a whole room or a mobile network: a room of thirty registering at
    once (about 270 sensitive requests) fits in the per-address burst; the strict limit is per
    target."""
    s = config.Settings()
    assert s.rate_sensitive.burst >= 300 and s.rate_sensitive.rate >= 10
    assert s.rate_ip.burst >= 300
    assert s.rate_target == config.Rate(0.2, 10)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7:443 ", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("unknown", None),
        ("203.0.113.7, 10.0.0.1", None),
        ("", None),
    ],
)
def test_forwarded_addresses(raw, expected):
    assert _address(raw) == expected


def test_production_refuses_development_defaults():
    dev = config.Settings()
    refuse_development_defaults(dev, {})  # EDU_ENV unset: development
    refuse_development_defaults(dev, {"EDU_ENV": "development"})
    with pytest.raises(ConfigError) as refused:
        refuse_development_defaults(dev, {"EDU_ENV": "production"})
    assert "GATEWAY_UPSTREAMS" in str(refused.value) and "IDENTITY_JWKS_URL" in str(refused.value)
    assert "127.0.0.1" not in str(refused.value)  # names, never values
    # Any instance on this machine is `make run`'s, not only the default list.
    mixed = config.Settings(
        upstream_spec="identity=http://identity:8000;notify=http://localhost:8004",
        jwks_url="http://identity:8000/.well-known/jwks.json",
    )
    with pytest.raises(ConfigError, match="GATEWAY_UPSTREAMS"):
        refuse_development_defaults(mixed, {"EDU_ENV": "production"})
    ready = config.Settings(
        upstream_spec="identity=http://identity:8000,http://identity-b:8000;notify=https://n",
        jwks_url="http://identity:8000/.well-known/jwks.json",
    )
    refuse_development_defaults(ready, {"EDU_ENV": "production"})
    # Read from the environment, the same refusal.
    with pytest.raises(ConfigError, match="IDENTITY_JWKS_URL"):
        config.load({"EDU_ENV": "production", "GATEWAY_UPSTREAMS": "identity=http://identity:1"})


def test_openapi_merge_renames_components_and_refs():
    doc = {
        "paths": {
            "/me": {
                "get": {
                    "tags": ["me"],
                    "operationId": "get_me",
                    "responses": {"200": {"$ref": "#/components/responses/Ok"}},
                }
            }
        },
        "tags": [{"name": "me"}],
        "components": {
            "schemas": {"Account": {"type": "object"}},
            "responses": {"Ok": {"schema": {"$ref": "#/components/schemas/Account"}}},
        },
    }
    merged = merge({"identity": doc, "applicant": doc}, ["notify"])
    op = merged["paths"]["/api/identity/me"]["get"]
    assert op["tags"] == ["identity: me"] and op["operationId"] == "identity.get_me"
    assert op["responses"]["200"]["$ref"] == "#/components/responses/identity.Ok"
    ok = merged["components"]["responses"]["applicant.Ok"]
    assert ok["schema"]["$ref"] == "#/components/schemas/applicant.Account"
    assert merged["info"]["x-unavailable"] == ["notify"]
    assert doc["paths"]["/me"]["get"]["operationId"] == "get_me"  # the input is not changed
