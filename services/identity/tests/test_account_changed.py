"""identity.account.changed.v1: every service's copy of who is who comes from this event."""

from identity.usecases.common import account_state

CHANGED = "identity.account.changed.v1"


def states(db, h, account_id):
    return [e["data"] for e in h.events_of(db, CHANGED) if e["data"]["account_id"] == account_id]


def admin(client, h):
    return h.admin(client)


def test_a_new_cabinet_is_announced_with_its_whole_state(client, db, h):
    account_id = h.register(client, db)
    [state] = states(db, h, account_id)
    assert state["revision"] == 1
    assert state["iin"] == h.MOTHER_IIN and state["phone"] == h.MOTHER_PHONE
    assert state["email"] == "aigerim@example.kz" and state["roles"] == ["citizen"]
    assert state["full_name"] and state["birth_date"] == "1995-04-23"
    assert state["active"] is True and state["notifications_consent"] is True


def test_consent_withdrawn_is_announced_with_the_next_revision(client, db, h):
    account_id = h.register(client, db)
    r = client.put("/me/consents", json={"notifications": False}, headers=h.bearer(h.login(client)))
    assert r.status_code == 200, r.json
    assert [s["revision"] for s in states(db, h, account_id)] == [1, 2]
    assert states(db, h, account_id)[-1]["notifications_consent"] is False


def test_an_admin_makes_a_parent_kindergarten_staff(client, db, h):
    account_id = h.register(client, db)
    body = {"roles": ["citizen", "kindergarten_staff"], "organization_id": "kg-7"}
    r = client.put(f"/accounts/{account_id}/roles", json=body, headers=admin(client, h))
    assert r.status_code == 200, r.json
    assert r.json["roles"] == ["citizen", "kindergarten_staff"]
    latest = states(db, h, account_id)[-1]
    assert latest["revision"] == 2 and latest["organization_id"] == "kg-7"
    me = client.get("/me", headers=h.bearer(h.login(client))).json
    assert me["roles"] == ["citizen", "kindergarten_staff"]


def test_only_admins_change_roles_and_input_is_checked(client, db, h):
    account_id = h.register(client, db)
    citizen = h.bearer(h.login(client))
    body = {"roles": ["admin"]}
    assert client.put(f"/accounts/{account_id}/roles", json=body).status_code == 401
    r = client.put(f"/accounts/{account_id}/roles", json=body, headers=citizen)
    assert r.status_code == 403
    headers = admin(client, h)
    r = client.put(f"/accounts/{account_id}/roles", json={"roles": ["teacher"]}, headers=headers)
    assert r.status_code == 422 and r.json["code"] == "organization_required"
    r = client.put(f"/accounts/{account_id}/roles", json={"roles": ["pilot"]}, headers=headers)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"].startswith("roles")
    r = client.put("/accounts/nobody/roles", json=body, headers=headers)
    assert r.status_code == 404
    assert len(states(db, h, account_id)) == 1


def test_an_admin_cannot_demote_themselves(client, db, h):
    headers = admin(client, h)
    me = client.get("/me", headers=headers).json
    r = client.put(f"/accounts/{me['id']}/roles", json={"roles": ["citizen"]}, headers=headers)
    assert r.status_code == 422 and r.json["code"] == "cannot_demote_self"


def test_staff_accounts_are_announced_too(client, db, h):
    body = {
        "iin": "100315544107",
        "phone": "+77010000003",
        "roles": ["teacher"],
        "organization_id": "school-1",
    }
    r = client.post("/accounts", json=body, headers=admin(client, h))
    assert r.status_code == 201, r.json
    [state] = states(db, h, r.json["id"])
    assert state["roles"] == ["teacher"] and state["organization_id"] == "school-1"
    assert state["iin"] == "100315544107"


def test_state_without_a_person_or_consents():
    state = account_state({"_id": "a1", "roles": ["admin"], "revision": 3})
    assert state["full_name"] is None and state["revision"] == 3
    assert state["notifications_consent"] is True and state["active"] is True


def test_every_account_can_be_announced_again_for_a_new_copy(client, db, h):
    from identity.tools.announce import announce_all

    account_id = h.register(client, db)
    db.accounts.update_one({"_id": account_id}, {"$unset": {"revision": ""}})  # an old account
    before = len(h.events_of(db, CHANGED))
    assert announce_all(db, batch=1) == db.accounts.count_documents({})
    again = states(db, h, account_id)[-1]
    assert again["revision"] == 1 and again["iin"] == h.MOTHER_IIN
    assert len(h.events_of(db, CHANGED)) == before + db.accounts.count_documents({})
