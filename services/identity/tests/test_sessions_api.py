"""Signing in by password, one-time code and digital signature; refresh, sign-out, limits."""

import datetime as dt

import jwt
import pytest

from identity.tools import devca

pytestmark = pytest.mark.integration


def test_password_login_gives_a_verifiable_short_lived_token(client, db, h, deps):
    account_id = h.register(client, db)
    tokens = h.login(client)
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "EdDSA"
    jwks = client.get("/.well-known/jwks.json").json
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == header["kid"])).key
    claims = jwt.decode(tokens["access_token"], key, algorithms=["EdDSA"], audience="edu-platform")
    assert claims["sub"] == account_id and claims["roles"] == ["citizen"]
    assert claims["exp"] - claims["iat"] == 300 and claims["jti"]
    assert tokens["password_change_required"] is False


def test_wrong_password_and_unknown_iin_answer_alike(client, db, h):
    h.register(client, db)
    a = client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": "Wrong-pass-1"})
    b = client.post("/sessions", json={"iin": "880714327312", "password": "Wrong-pass-1"})
    assert a.status_code == b.status_code == 401
    assert a.json["code"] == b.json["code"] == "invalid_credentials"


def test_refresh_rotates_and_reuse_ends_the_family(client, db, h):
    h.register(client, db)
    first = h.login(client)
    second = client.post("/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    # The old refresh token comes back: stolen. The whole family ends.
    again = client.post("/sessions/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401
    third = client.post("/sessions/refresh", json={"refresh_token": second.json["refresh_token"]})
    assert third.status_code == 401
    r = client.get("/me", headers=h.bearer(second.json))
    assert r.status_code == 401 and r.json["code"] == "session_ended"


def test_logout_and_logout_everywhere(client, db, h):
    h.register(client, db)
    a, b, c = h.login(client), h.login(client), h.login(client)
    assert client.delete("/sessions/current", headers=h.bearer(a)).status_code == 204
    assert client.get("/me", headers=h.bearer(a)).status_code == 401
    assert client.get("/me", headers=h.bearer(b)).status_code == 200
    assert client.delete("/sessions", headers=h.bearer(b)).status_code == 204
    assert client.get("/me", headers=h.bearer(c)).status_code == 401
    assert (
        client.post("/sessions/refresh", json={"refresh_token": c["refresh_token"]}).status_code
        == 401
    )


def test_tokens_are_checked(client, db, h, deps, clock):
    h.register(client, db)
    tokens = h.login(client)
    assert client.get("/me").status_code == 401
    tampered = tokens["access_token"][:-4] + "AAAA"
    assert client.get("/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    hs = jwt.encode({"sub": "x"}, "a-secret-long-enough-for-hmac-sha256!", algorithm="HS256")
    r = client.get("/me", headers={"Authorization": f"Bearer {hs}"})
    assert r.status_code == 401 and r.json["code"] == "invalid_token"
    real_now = dt.datetime.now(dt.UTC)
    clock.now = real_now - dt.timedelta(minutes=10)
    old = h.login(client)
    clock.now = real_now
    r = client.get("/me", headers=h.bearer(old))
    assert r.status_code == 401 and r.json["code"] == "token_expired"


def test_brute_force_slows_then_locks(client, db, h):
    h.register(client, db)
    statuses = []
    for _ in range(12):
        r = client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": "Wrong-pass-1"})
        statuses.append(r.status_code)
    assert statuses[:3] == [401, 401, 401]
    assert 429 in statuses
    r = client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": h.PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_lock_after_ten_failures_emits_one_event(client, db, h, clock):
    account_id = h.register(client, db)
    for _ in range(10):
        client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": "Wrong-pass-1"})
        clock.advance(seconds=61)  # wait out each growing delay
    locked = h.events_of(db, "identity.account.locked.v1")
    assert len(locked) == 1 and locked[0]["data"]["account_id"] == account_id
    r = client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": h.PASSWORD})
    assert r.status_code == 429
    clock.advance(minutes=16)
    assert (
        client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": h.PASSWORD}).status_code
        == 201
    )
    clock.now = dt.datetime.now(dt.UTC)  # tokens are verified against the real clock
    admin = h.admin(client, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    audit = client.get(f"/audit?account_id={account_id}", headers=admin).json
    assert "items" in audit, audit
    kinds = [e["type"] for e in audit["items"]]
    assert "account.locked" in kinds and kinds.count("login.failed") >= 10
    assert "login.succeeded" in kinds


def test_one_time_code_login_only_to_a_linked_phone(client, db, h):
    h.register(client, db)
    # A phone the mobile-citizens database does not link to the IIN: the same answer, no SMS.
    r = client.post("/otp", json={"iin": h.MOTHER_IIN, "phone": "+77011234567"})
    assert r.status_code == 202 and set(r.json) == {"challenge_id", "expires_at"}
    assert h.codes_sent(db, "+77011234567") == []
    r = client.post("/otp", json={"iin": h.MOTHER_IIN, "phone": h.MOTHER_PHONE})
    assert r.status_code == 202
    challenge = r.json["challenge_id"]
    [sent] = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "login"]
    assert sent["channel"] == "sms"
    r = client.post("/sessions/otp", json={"challenge_id": challenge, "code": sent["code"]})
    assert r.status_code == 201 and r.json["access_token"]
    r = client.post("/sessions/otp", json={"challenge_id": challenge, "code": sent["code"]})
    assert r.status_code == 409 and r.json["code"] == "code_used"
    r = client.post("/sessions/otp", json={"challenge_id": "nope", "code": "123456"})
    assert r.status_code == 404 and r.json["invalid_params"][0]["name"] == "challenge_id"


def test_digital_signature_login(client, db, h, eds_dir):
    h.register(client, db)
    cert, key = devca.issue_certificate(eds_dir, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    ch = client.post("/eds/challenges").json
    signature = devca.sign_nonce(key, ch["nonce"])
    body = {"challenge_id": ch["challenge_id"], "certificate": cert, "signature": signature}
    r = client.post("/sessions/eds", json=body)
    assert r.status_code == 201, r.json
    again = client.post("/sessions/eds", json=body)
    assert again.status_code == 410  # the nonce is used once
    ch2 = client.post("/eds/challenges").json
    r = client.post("/sessions/eds", json={**body, "challenge_id": ch2["challenge_id"]})
    assert r.status_code == 401 and r.json["code"] == "eds_bad_signature"


def test_digital_signature_from_an_untrusted_ca_is_refused(client, db, h, tmp_path):
    h.register(client, db)
    other = tmp_path / "other-ca"
    devca.init_ca(other)
    cert, key = devca.issue_certificate(other, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    ch = client.post("/eds/challenges").json
    r = client.post(
        "/sessions/eds",
        json={
            "challenge_id": ch["challenge_id"],
            "certificate": cert,
            "signature": devca.sign_nonce(key, ch["nonce"]),
        },
    )
    assert r.status_code == 401 and r.json["code"] == "eds_untrusted"


def test_a_new_crl_is_picked_up_without_a_restart(eds_dir):
    from identity.adapters.eds import EdsError, ReloadingEdsVerifier

    cert, key = devca.issue_certificate(eds_dir, "950423451048", "АХМЕТОВА АЙГЕРИМ")
    crl = devca.write_crl(eds_dir)
    verifier = ReloadingEdsVerifier(str(eds_dir / "ca.pem"), [str(crl)], check_every=0)
    assert verifier.verify(cert, devca.sign_nonce(key, "n1"), "n1").iin == "950423451048"
    devca.write_crl(eds_dir, revoke=[cert])
    with pytest.raises(EdsError) as err:
        verifier.verify(cert, devca.sign_nonce(key, "n2"), "n2")
    assert err.value.code == "eds_revoked"


def test_request_id_follows_into_the_events_it_causes(client, db, h):
    r = client.post("/registrations", json={"email": "rid@example.kz"},
                    headers={"X-Request-Id": "req-from-gateway-1"})  # fmt: skip
    assert r.headers["X-Request-Id"] == "req-from-gateway-1"
    [doc] = [d for d in db.outbox.find() if d["body"]["data"].get("to") == "rid@example.kz"]
    assert doc["body"]["correlation_id"] == "req-from-gateway-1"
    assert doc["headers"]["x-request-id"] == "req-from-gateway-1"
    assert doc["headers"]["traceparent"].startswith("00-")


def test_requests_work_while_the_broker_is_away(settings, clock, mongo_client, unused_port):
    import dataclasses

    from identity.app import create_app
    from identity.domain.passwords import PasswordHasher

    away = dataclasses.replace(settings, amqp_url=f"amqp://guest:guest@127.0.0.1:{unused_port}/")
    app = create_app(away, clock=clock, hasher=PasswordHasher(memory_cost=1024, time_cost=1))
    client = app.test_client()
    try:
        assert client.post("/registrations", json={"email": "b@example.kz"}).status_code == 201
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"]["broker"] is False
        assert app.extensions["identity"].db.outbox.count_documents({"sent_at": None}) >= 1
    finally:
        mongo_client.drop_database(away.database)
