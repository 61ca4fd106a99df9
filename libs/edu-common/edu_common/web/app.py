"""The Flask app factory of every service: OpenAPI, problems, request ids, logs, probes, metrics;
and ``service_app``, the body of every composition root (indexes, probes, deps, token checks)."""

from __future__ import annotations

import datetime as dt
import http
import logging
import os
import time
from collections.abc import Callable, Iterable

from flask import Flask, Response, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from edu_common import accounts, bus, consumer, context, logs, mongo, outbox
from edu_common.config import env, env_int
from edu_common.web import auth, idempotency, problems

access_log = logging.getLogger("access")

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

MAX_BODY = 1024 * 1024
_PROBES = {"/healthz", "/readyz", "/metrics"}


def _metrics() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


class IsoJSONProvider(DefaultJSONProvider):
    """Dates in ISO 8601 everywhere, also inside free-form fields (Flask's default is RFC 822)."""

    @staticmethod
    def default(o):
        if isinstance(o, dt.date | dt.datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


class InvalidParam(Schema):
    name = fields.String(metadata={"description": "The field, dotted for nested ones"})
    reason = fields.String()
    codes = fields.List(fields.String(), metadata={"description": "Rule codes, when several"})


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error of the platform is answered."""

    type = fields.String(metadata={"example": "/problems/validation_failed"})
    title = fields.String(metadata={"description": "For people, in their language"})
    status = fields.Integer()
    code = fields.String(metadata={"description": "Stable machine code"})
    detail = fields.String()
    request_id = fields.String()
    invalid_params = fields.List(fields.Nested(InvalidParam))


class ServiceApi(Api):
    """flask-smorest's Api, documenting errors as they are sent: problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, problems.CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, problems.CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def _probe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # a probe must answer, not raise
        return False


def body_limit(max_bytes: int):
    """Decorator of a view function (outermost, right under the route) or of a MethodView
    class: it takes bodies up to max_bytes instead of the service's 1 MiB, e.g. an upload."""

    def mark(view):
        view.max_body = max_bytes
        return view

    return mark


def create_service_app(
    *,
    service: str,
    title: str,
    description: str = "",
    blueprints: Iterable = (),
    readiness: dict[str, Callable[[], bool]] | None = None,
    reported: dict[str, Callable[[], bool]] | None = None,
    settings: dict | None = None,
) -> tuple[Flask, Api]:
    logs.configure(service, env("LOG_LEVEL", "INFO"))
    app = Flask(service)
    app.json = IsoJSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
        MAX_CONTENT_LENGTH=MAX_BODY,
    )
    app.config.update(settings or {})
    # Behind the gateway the client's address is in X-Forwarded-For; believe it only from as
    # many proxies as are configured (0 when the service is reachable directly).
    proxies = env_int("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.json.ensure_ascii = False
    api = ServiceApi(app)
    for bp in blueprints:
        api.register_blueprint(bp)
    problems.install(app)  # after Api: replaces flask-smorest's own JSON error handler
    # `readiness` gates traffic; `reported` is shown but does not: the web process only writes
    # events to its outbox, so a broker outage must not take it out of service.
    checks = readiness or {}
    shown = reported or {}

    @app.before_request
    def _begin():
        g.started = time.perf_counter()
        ctx = context.from_incoming(
            request.headers.get("X-Request-Id"), request.headers.get("traceparent")
        )
        context.update(**{k: getattr(ctx, k) for k in ctx.__dataclass_fields__})
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        limit = (
            getattr(view, "max_body", None)
            or getattr(getattr(view, "view_class", None), "max_body", None)  # a MethodView
            or app.config["MAX_CONTENT_LENGTH"]
        )
        request.max_content_length = limit  # also bounds multipart parsing of a chunked body
        if request.content_length and request.content_length > limit:
            return problems.problem_response(413, "payload_too_large")
        return None

    @app.after_request
    def _finish(resp: Response) -> Response:
        ctx = context.current()
        if ctx.request_id:
            resp.headers["X-Request-Id"] = ctx.request_id
        if ctx.traceparent:
            resp.headers["traceparent"] = ctx.traceparent
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Cache-Control", "no-store")
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if request.path not in _PROBES:
            elapsed = time.perf_counter() - g.get("started", time.perf_counter())
            REQUESTS.labels(request.method, route, resp.status_code).inc()
            LATENCY.labels(request.method, route).observe(elapsed)
            access_log.info(
                "%s %s %s",
                request.method,
                route,
                resp.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": resp.status_code,
                    "latency_ms": round(elapsed * 1000, 2),
                },
            )
        return resp

    @app.teardown_request
    def _reset(_exc):
        context.update(**{k: None for k in context.Context.__dataclass_fields__})

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        results = {name: _probe(check) for name, check in {**checks, **shown}.items()}
        if all(results[name] for name in checks):
            return jsonify(status="ready", checks=results)
        return problems.problem_response(503, "not_ready", checks=results)

    app.add_url_rule("/metrics", "metrics", _metrics)
    return app, api


def service_indexes(
    own: Iterable[mongo.Index], *, accounts_copy: bool = True, publishes: bool = True
) -> list[mongo.Index]:
    """A service's own indexes with those of the shared parts it uses: the accounts copy
    (not identity, which owns the accounts), the outbox (not a service that publishes
    nothing), the consumer's inbox and idempotency keys."""
    return [
        *own,
        *(accounts.INDEXES if accounts_copy else ()),
        *(outbox.INDEXES if publishes else ()),
        *consumer.INDEXES,
        *idempotency.INDEXES,
    ]


def service_app(
    *,
    service: str,
    deps,
    description: str,
    blueprints: Iterable,
    indexes: Iterable[mongo.Index],
    verifier: auth.TokenVerifier | None = None,
    session_check: Callable[[auth.Principal], bool] | None = None,
    setup: Callable[[], None] | None = None,
    extension: str | None = None,
) -> Flask:
    """A service's app from its wired ``deps`` (an ``edu_common.deps.Deps``): its indexes
    ensured, then ``setup`` (e.g. a first account), the app made with the database gating
    readiness and the broker only reported (the web process writes events to its outbox), the
    deps in ``app.extensions[extension or service]``, and bearer tokens checked by ``verifier``
    (tests pass ``TokenMinter().verifier``; by default identity's published keys)."""
    settings = deps.settings
    mongo.ensure_indexes(deps.db, list(indexes))
    if setup is not None:
        setup()
    app, _api = create_service_app(
        service=service,
        title=service,
        description=description,
        blueprints=blueprints,
        readiness={"database": lambda: mongo.ping(deps.db)},
        reported={"broker": lambda: bus.broker_answers(settings.amqp_url)},
    )
    app.extensions[extension or service] = deps
    auth.configure(
        verifier or auth.TokenVerifier(auth.JwksKeySource(settings.jwks_url)),
        session_check=session_check,
    )
    return app
