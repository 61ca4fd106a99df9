"""A miss in the accounts copy is filled from identity with the asker's own token
(docs/decisions/0016-account-copy-on-miss.md): the service's code only calls
``accounts.require``; identity here is a stub HTTP server that records what it was asked."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask_smorest import Blueprint

from edu_common import accounts, mongo
from edu_common.settings import ServiceSettings
from edu_common.testing import TokenMinter
from edu_common.web import auth
from edu_common.web.app import create_service_app
from edu_common.web.problems import Problem


def state(account_id: str, revision: int = 1, **kw) -> dict:
    return {
        "account_id": account_id,
        "revision": revision,
        "iin": "950423451048",
        "full_name": "Серикова Айгерим",
        "roles": ["citizen"],
        "phone": "+77010000001",
        "email": "a@example.kz",
        "language": "kk",
        **kw,
    }


class StubIdentity:
    """Answers GET /internal/accounts/<id> from ``states``; ``status`` forces an error."""

    def __init__(self):
        self.states: dict[str, dict] = {}
        self.status: int | None = None
        self.asked: list[tuple[str, str | None]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stub.asked.append((self.path, self.headers.get("Authorization")))
                account_id = self.path.rsplit("/", 1)[-1]
                found = stub.states.get(account_id)
                status = stub.status or (200 if found else 404)
                body = json.dumps(found if status == 200 else {"code": "x"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@dataclass
class FakeDeps:
    settings: ServiceSettings
    db: object


@pytest.fixture
def identity():
    stub = StubIdentity()
    yield stub
    stub.close()


@pytest.fixture
def service(mongo_db, identity):
    """A service as every one is built: its Deps at app.extensions[<service name>]."""
    mongo.ensure_indexes(mongo_db, accounts.INDEXES)
    minter = TokenMinter()
    bp = Blueprint("acc", __name__)

    @bp.route("/mine")
    @auth.require()
    def mine():
        account = accounts.require(mongo_db, auth.current_principal().account_id)
        return {"iin": account["iin"]}

    @bp.route("/of/<account_id>")
    @auth.require()
    def of(account_id):
        return {"iin": accounts.require(mongo_db, account_id)["iin"]}

    name = f"svc-{uuid.uuid4().hex[:6]}"
    app, _api = create_service_app(service=name, title=name, blueprints=[bp])
    settings = ServiceSettings(identity_url=identity.url, identity_timeout=2.0)
    app.extensions[name] = FakeDeps(settings, mongo_db)
    auth.configure(minter.verifier)
    return app.test_client(), minter, mongo_db, app


def test_a_miss_is_filled_from_identity_with_the_callers_own_token(service, identity):
    client, minter, db, _app = service
    identity.states["acc-new"] = state("acc-new")
    token = minter.token("acc-new")
    r = client.get("/mine", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.json
    assert r.json["iin"] == "950423451048"
    assert identity.asked == [("/internal/accounts/acc-new", f"Bearer {token}")]
    copy = db[accounts.ACCOUNTS].find_one({"_id": "acc-new"})
    assert copy["revision"] == 1 and copy["roles"] == ["citizen"]
    # Known now: the next request reads the local copy only.
    assert client.get("/mine", headers=minter.headers("acc-new")).status_code == 200
    assert len(identity.asked) == 1


def test_only_the_callers_own_account_is_asked_for(service, identity):
    client, minter, _db, _app = service
    identity.states["acc-other"] = state("acc-other")
    r = client.get("/of/acc-other", headers=minter.headers("acc-me"))
    assert r.status_code == 409 and r.json["code"] == "account_not_synced"
    assert identity.asked == []  # someone else's account is never fetched with my token


@pytest.mark.parametrize("status", [500, 503, 401, 404])
def test_when_identity_cannot_answer_it_is_409_with_retry_after(service, identity, status):
    client, minter, db, _app = service
    identity.states["acc-new"] = state("acc-new")
    identity.status = status
    r = client.get("/mine", headers=minter.headers("acc-new"))
    assert r.status_code == 409 and r.json["code"] == "account_not_synced"
    assert r.headers["Retry-After"] == "2"
    assert db[accounts.ACCOUNTS].count_documents({}) == 0


def test_identity_down_is_409_not_500(service, unused_port):
    client, minter, _db, app = service
    name = app.name
    app.extensions[name].settings = ServiceSettings(identity_url=f"http://127.0.0.1:{unused_port}")
    r = client.get("/mine", headers=minter.headers("acc-new"))
    assert r.status_code == 409 and r.json["code"] == "account_not_synced"


def test_a_wrong_or_malformed_answer_is_not_kept(service, identity):
    client, minter, db, _app = service
    identity.states["acc-new"] = state("acc-other")  # another account's state
    assert client.get("/mine", headers=minter.headers("acc-new")).status_code == 409
    identity.states["acc-new"] = {"account_id": "acc-new", "revision": "one"}
    assert client.get("/mine", headers=minter.headers("acc-new")).status_code == 409
    assert db[accounts.ACCOUNTS].count_documents({}) == 0


def test_without_identity_configured_the_copy_alone_answers(service, identity):
    client, minter, _db, app = service
    app.extensions[app.name].settings = ServiceSettings(identity_url="")
    identity.states["acc-new"] = state("acc-new")
    assert client.get("/mine", headers=minter.headers("acc-new")).status_code == 409
    assert identity.asked == []


def test_a_disabled_account_is_not_let_in_by_the_fill(service, identity):
    client, minter, _db, _app = service
    identity.states["acc-new"] = state("acc-new", active=False)
    assert client.get("/mine", headers=minter.headers("acc-new")).status_code == 409


def test_keep_never_replaces_a_newer_revision(mongo_db):
    mongo.ensure_indexes(mongo_db, accounts.INDEXES)
    assert accounts.keep(mongo_db, state("acc-1", revision=3, phone="+77010000003"))
    assert not accounts.keep(mongo_db, state("acc-1", revision=2, phone="+77010000002"))
    assert not accounts.keep(mongo_db, state("acc-1", revision=3, phone="+77010000009"))
    assert accounts.get(mongo_db, "acc-1")["phone"] == "+77010000003"
    assert accounts.keep(mongo_db, state("acc-1", revision=4, phone="+77010000004"))
    assert accounts.get(mongo_db, "acc-1")["phone"] == "+77010000004"


def test_outside_a_request_a_miss_stays_a_409(mongo_db):
    with pytest.raises(Problem) as raised:
        accounts.require(mongo_db, "acc-nobody")
    assert raised.value.status == 409
