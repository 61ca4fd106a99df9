"""The app factory: body limits per view, and the client's address behind the gateway."""

from flask import request
from flask_smorest import Blueprint

from edu_common import accounts, deps, mongo, outbox
from edu_common.settings import ServiceSettings
from edu_common.testing import TokenMinter
from edu_common.web.app import body_limit, create_service_app, service_app, service_indexes

bp = Blueprint("t", __name__)


@bp.route("/small", methods=["POST"])
def small():
    return {"size": len(request.get_data())}


@bp.route("/large", methods=["POST"])
@body_limit(3 * 1024 * 1024)
def large():
    return {"size": len(request.get_data())}


@bp.route("/who")
def who():
    return {"address": request.remote_addr}


def client(monkeypatch, proxies: str | None = None):
    if proxies is None:
        monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("TRUSTED_PROXIES", proxies)
    app, _api = create_service_app(service="t", title="t", blueprints=[bp])
    return app.test_client()


def test_bodies_over_a_mebibyte_are_refused_unless_the_view_allows_more(monkeypatch):
    c = client(monkeypatch)
    two_mib = b"x" * (2 * 1024 * 1024)
    r = c.post("/small", data=two_mib)
    assert r.status_code == 413 and r.json["code"] == "payload_too_large"
    assert r.headers["Content-Type"] == "application/problem+json"
    assert c.post("/large", data=two_mib).json == {"size": len(two_mib)}
    assert c.post("/large", data=two_mib * 2).status_code == 413


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(monkeypatch):
    headers = {"X-Forwarded-For": "203.0.113.7"}
    direct = client(monkeypatch).get(
        "/who", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert direct.json == {"address": "10.0.0.2"}
    behind = client(monkeypatch, "1").get(
        "/who",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert behind.json == {"address": "203.0.113.7"}


def test_service_app_wires_indexes_setup_deps_probes_and_tokens(mongo_db, monkeypatch):
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    minter = TokenMinter()
    steps = []
    wired = deps.Deps(settings=ServiceSettings(), db=mongo_db)
    app = service_app(
        service="t",
        deps=wired,
        description="a test service",
        blueprints=[bp],
        indexes=[mongo.Index("things", [("name", 1)], unique=True, name="thing_names")],
        verifier=minter.verifier,
        setup=lambda: steps.append(sorted(mongo_db["things"].index_information())),
    )
    assert steps == [["_id_", "thing_names"]]  # the indexes come before setup
    assert app.extensions["t"] is wired
    c = app.test_client()
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["database"] is True
    assert "broker" in ready.json["checks"]
    assert c.get("/openapi.json").json["info"]["description"] == "a test service"


def test_assemble_builds_a_part_only_where_no_override_replaces_it():
    made = []

    def registry():
        made.append("registry")
        return "real"

    parts = dict(settings="s", db="db", clock=lambda: None)
    got = deps.assemble(dict, {"registry": "fake"}, registry=deps.Later(registry), **parts)
    assert got["registry"] == "fake" and made == []
    got = deps.assemble(dict, {}, registry=deps.Later(registry), **parts)
    assert got["registry"] == "real" and made == ["registry"]


def test_service_indexes_add_the_shared_parts_a_service_uses():
    own = [mongo.Index("things", [("name", 1)], name="thing_names")]
    every = {i.name for i in service_indexes(own)}
    assert "thing_names" in every
    assert {i.name for i in accounts.INDEXES} <= every
    assert {i.name for i in outbox.INDEXES} <= every
    identity_like = {i.name for i in service_indexes(own, accounts_copy=False)}
    assert not {i.name for i in accounts.INDEXES} & identity_like
    quiet = {i.name for i in service_indexes(own, publishes=False)}
    assert not {i.name for i in outbox.INDEXES} & quiet
