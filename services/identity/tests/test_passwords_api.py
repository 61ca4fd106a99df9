"""Password change, age limit, recovery, and staff accounts with one-time passwords."""

import datetime as dt

import pytest

pytestmark = pytest.mark.integration

NEW = "Newpass-2026"


def change(client, h, tokens, current, new):
    return client.post(
        "/me/password",
        headers=h.bearer(tokens),
        json={"current_password": current, "new_password": new, "new_password_confirmation": new},
    )


def test_change_ends_other_sessions_and_the_old_password(client, db, h):
    account_id = h.register(client, db)
    mine, other = h.login(client), h.login(client)
    r = change(client, h, mine, h.PASSWORD, NEW)
    assert r.status_code == 200 and r.json["other_sessions_ended"] == 1
    assert client.get("/me", headers=h.bearer(mine)).status_code == 200
    assert client.get("/me", headers=h.bearer(other)).status_code == 401
    assert (
        client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": h.PASSWORD}).status_code
        == 401
    )
    h.login(client, password=NEW)
    [event] = h.events_of(db, "identity.password.changed.v1")
    assert event["data"] == {"account_id": account_id, "reason": "change", "sessions_ended": 1}


def test_no_reuse_of_the_last_five(client, db, h):
    h.register(client, db)
    tokens = h.login(client)
    current = h.PASSWORD
    for i in range(4):
        new = f"Rotation-{i}x"
        assert change(client, h, tokens, current, new).status_code == 200
        current = new
    r = change(client, h, tokens, current, h.PASSWORD)  # the 5th most recent
    assert r.status_code == 422 and r.json["code"] == "password_reused"
    assert r.json["invalid_params"][0]["name"] == "new_password"
    assert change(client, h, tokens, current, "Rotation-4x").status_code == 200
    assert change(client, h, tokens, "Rotation-4x", h.PASSWORD).status_code == 200  # 6th back


def test_wrong_current_password(client, db, h):
    h.register(client, db)
    tokens = h.login(client)
    r = change(client, h, tokens, "Not-it-123", NEW)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "current_password"


def test_password_older_than_45_days_must_be_changed(client, db, h, clock):
    account_id = h.register(client, db)
    db.accounts.update_one(
        {"_id": account_id}, {"$set": {"password_changed_at": clock.now - dt.timedelta(days=45)}}
    )
    tokens = h.login(client)
    assert tokens["password_change_required"] is True
    r = client.put("/me/consents", json={"notifications": False}, headers=h.bearer(tokens))
    assert r.status_code == 403 and r.json["code"] == "password_change_required"
    # Who the account is stays readable, saying the change is due.
    me = client.get("/me", headers=h.bearer(tokens))
    assert me.status_code == 200 and me.json["password_change_required"] is True
    assert change(client, h, tokens, h.PASSWORD, NEW).status_code == 200


def test_recovery_answers_alike_and_works_by_email(client, db, h):
    h.register(client, db)
    unknown = client.post("/password-resets", json={"email": "nobody@example.kz"})
    known = client.post("/password-resets", json={"email": "aigerim@example.kz"})
    assert unknown.status_code == known.status_code == 202
    assert set(unknown.json) == set(known.json)
    assert h.codes_sent(db, "nobody@example.kz") == []
    [sent] = [c for c in h.codes_sent(db, "aigerim@example.kz") if c["purpose"] == "password_reset"]
    session = h.login(client)
    body = {"code": sent["code"], "new_password": NEW, "new_password_confirmation": NEW}
    r = client.post(f"/password-resets/{known.json['id']}/complete", json=body)
    assert r.status_code == 200
    assert client.get("/me", headers=h.bearer(session)).status_code == 401
    assert (
        client.post(f"/password-resets/{known.json['id']}/complete", json=body).status_code == 409
    )  # the code is spent
    h.login(client, password=NEW)
    # A code against the unknown address's request fails exactly like a wrong one against the
    # real request: nothing tells whether the account exists.
    wrong = "000000" if sent["code"] != "000000" else "111111"
    again = client.post("/password-resets", json={"email": "aigerim@example.kz"}).json["id"]
    a = client.post(f"/password-resets/{unknown.json['id']}/complete", json={**body, "code": wrong})
    b = client.post(f"/password-resets/{again}/complete", json={**body, "code": wrong})
    assert a.status_code == b.status_code == 422
    assert a.json["code"] == b.json["code"] == "code_wrong"
    assert a.json["attempts_left"] == b.json["attempts_left"] == 4


def test_recovery_by_iin_goes_to_the_phone(client, db, h):
    h.register(client, db)
    assert client.post("/password-resets", json={"iin": h.MOTHER_IIN}).status_code == 202
    [sent] = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "password_reset"]
    assert sent["channel"] == "sms"
    r = client.post("/password-resets", json={"iin": h.MOTHER_IIN, "email": "a@example.kz"})
    assert r.status_code == 422


def admin_tokens(client, h):
    return h.admin_tokens(client)


def test_only_admins_create_accounts(client, db, h):
    h.register(client, db)
    citizen = h.login(client)
    body = {
        "iin": "100315544107",
        "phone": "+77010000003",
        "roles": ["teacher"],
        "organization_id": "school-1",
    }
    assert client.post("/accounts", json=body).status_code == 401
    r = client.post("/accounts", json=body, headers=h.bearer(citizen))
    assert r.status_code == 403 and r.json["code"] == "forbidden"


def test_staff_account_gets_a_one_time_password_by_sms_and_must_change_it(client, db, h):
    admin = admin_tokens(client, h)
    body = {
        "iin": "100315544107",
        "phone": "+77010000003",
        "roles": ["kindergarten_staff"],
        "organization_id": "kg-17",
    }
    r = client.post("/accounts", json=body, headers=h.bearer(admin))
    assert r.status_code == 201, r.json
    assert "password" not in r.json and r.json["password_sent_to"] == "sms"
    [sent] = h.codes_sent(db, "+77010000003")
    assert sent["purpose"] == "initial_password" and len(sent["code"]) >= 12
    assert sent["code"] not in r.get_data(as_text=True)
    first = h.login(client, "100315544107", sent["code"])
    assert first["password_change_required"] is True
    assert change(client, h, first, sent["code"], NEW).status_code == 200
    again = h.login(client, "100315544107", NEW)
    assert again["password_change_required"] is False
    me = client.get("/me", headers=h.bearer(again)).json
    assert me["roles"] == ["kindergarten_staff"] and me["organization_id"] == "kg-17"
    r = client.post("/accounts", json=body, headers=h.bearer(admin))
    assert r.status_code == 409 and r.json["code"] == "iin_taken"


def test_staff_account_input_is_checked(client, h):
    admin = admin_tokens(client, h)
    r = client.post(
        "/accounts",
        headers=h.bearer(admin),
        json={"iin": "100315544107", "phone": "+77010000003", "roles": ["wizard"]},
    )
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"].startswith("roles")
    r = client.post(
        "/accounts",
        headers=h.bearer(admin),
        json={"iin": "100315544107", "phone": "+77010000003", "roles": ["teacher"]},
    )
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "organization_id"
    r = client.post(
        "/accounts",
        headers=h.bearer(admin),
        json={"iin": "100315544108", "phone": "+77010000003", "roles": ["admin"]},
    )
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "iin"


def test_a_retried_create_with_the_same_idempotency_key_happens_once(client, db, h):
    admin = admin_tokens(client, h)
    body = {
        "iin": "100315544107",
        "phone": "+77010000003",
        "roles": ["teacher"],
        "organization_id": "school-1",
    }
    headers = {**h.bearer(admin), "Idempotency-Key": "create-teacher-0001"}
    first = client.post("/accounts", json=body, headers=headers)
    again = client.post("/accounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert len(h.codes_sent(db, "+77010000003")) == 1
    other = client.post("/accounts", json={**body, "roles": ["admin"]}, headers=headers)
    assert other.status_code == 422 and other.json["code"] == "idempotency_key_reused"


def test_accounts_without_an_email_do_not_collide_and_lookups_use_the_index(client, db, h):
    admin = admin_tokens(client, h)
    for iin in ("100315544107", "230517512034"):
        r = client.post(
            "/accounts",
            headers=h.bearer(admin),
            json={
                "iin": iin,
                "phone": "+77010000003",
                "roles": ["teacher"],
                "organization_id": "s1",
            },
        )
        assert r.status_code == 201, r.json
    plan = str(db.accounts.find({"iin": "100315544107"}).explain()["queryPlanner"])
    assert "IXSCAN" in plan and "one_account_per_iin" in plan  # every sign-in looks up by IIN


def test_the_bootstrap_admin_must_change_its_password_at_first_sign_in(client, db, h):
    first = h.login(client, h.ADMIN_IIN, h.ADMIN_PASSWORD)
    assert first["password_change_required"] is True
    body = {"iin": "100315544107", "phone": "+77010000003", "roles": ["teacher"],
            "organization_id": "school-1"}  # fmt: skip
    r = client.post("/accounts", json=body, headers=h.bearer(first))
    assert r.status_code == 403 and r.json["code"] == "password_change_required"
    assert client.get("/me", headers=h.bearer(first)).json["password_change_required"] is True
    r = change(client, h, first, h.ADMIN_PASSWORD, h.ADMIN_NEW_PASSWORD)
    assert r.status_code == 200
    again = h.login(client, h.ADMIN_IIN, h.ADMIN_NEW_PASSWORD)
    assert again["password_change_required"] is False
    assert client.post("/accounts", json=body, headers=h.bearer(again)).status_code == 201
    r = client.post("/sessions", json={"iin": h.ADMIN_IIN, "password": h.ADMIN_PASSWORD})
    assert r.status_code == 401


def test_a_staff_one_time_password_expires_after_72_hours(client, db, h, clock):
    admin = h.admin(client)
    body = {"iin": "100315544107", "phone": "+77010000003", "roles": ["teacher"],
            "organization_id": "school-1"}  # fmt: skip
    assert client.post("/accounts", json=body, headers=admin).status_code == 201
    [sent] = h.codes_sent(db, "+77010000003")
    assert dt.datetime.fromisoformat(sent["expires_at"]) - clock.now == dt.timedelta(hours=72)
    clock.advance(hours=71, minutes=59)
    assert h.login(client, "100315544107", sent["code"])["password_change_required"] is True
    clock.advance(minutes=1)
    r = client.post("/sessions", json={"iin": "100315544107", "password": sent["code"]})
    assert r.status_code == 401 and r.json["code"] == "one_time_password_expired"
    assert r.json["recovery"] == "/password-resets"
    # Recovery by IIN sets a password of the person's own, and the account works again.
    client.post("/password-resets", json={"iin": "100315544107"})
    [reset] = [c for c in h.codes_sent(db, "+77010000003") if c["purpose"] == "password_reset"]
    rid = db.challenges.find_one({"kind": "reset", "account_id": {"$ne": None}})["_id"]
    done = client.post(
        f"/password-resets/{rid}/complete",
        json={"code": reset["code"], "new_password": NEW, "new_password_confirmation": NEW},
    )
    assert done.status_code == 200, done.json
    assert h.login(client, "100315544107", NEW)["password_change_required"] is False
