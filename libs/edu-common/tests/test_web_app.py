"""The app factory: body limits per view, and the client's address behind the gateway."""

from flask import request
from flask_smorest import Blueprint

from edu_common.web.app import body_limit, create_service_app

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
