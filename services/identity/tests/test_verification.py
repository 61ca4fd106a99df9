"""A cabinet registered with data by hand is verified by an operator from the identity
document (issue 10): audited, announced to the other services, shown in GET /me."""

import pytest

from identity.usecases.common import is_verified

pytestmark = pytest.mark.integration

CHANGED = "identity.account.changed.v1"
OPERATOR_IIN = "100315544107"


def foreigner(client, db, h) -> str:
    reg = h.start(client, db, "anna@example.kz")
    assert client.post(f"/registrations/{reg}/person", json=h.FOREIGNER).status_code == 200
    h.give_phone(client, db, reg, "+77015550101")
    return h.finish(client, reg)


def operator(client, db, h) -> dict:
    body = {"iin": OPERATOR_IIN, "phone": "+77010000003", "roles": ["district_operator"],
            "organization_id": "district-astana-nura"}  # fmt: skip
    assert client.post("/accounts", json=body, headers=h.admin(client)).status_code == 201
    [sent] = h.codes_sent(db, "+77010000003")
    first = h.login(client, OPERATOR_IIN, sent["code"])
    new = "Operator-Nura-26"
    change = {"current_password": sent["code"], "new_password": new,
              "new_password_confirmation": new}  # fmt: skip
    assert client.post("/me/password", json=change, headers=h.bearer(first)).status_code == 200
    return h.bearer(h.login(client, OPERATOR_IIN, new))


def test_an_operator_verifies_a_foreigner_from_the_document(client, db, h):
    account_id = foreigner(client, db, h)
    me = client.get("/me", headers=h.bearer(h.login(client, h.FOREIGNER_IIN))).json
    assert me["verified"] is False
    staff = operator(client, db, h)
    seen = client.get(f"/accounts/{account_id}", headers=staff)
    assert seen.status_code == 200 and seen.json["person"]["document"]["number"] == "75 1234567"
    body = {"document_checked": True, "note": "passport 75 1234567 seen at the Nura office"}
    r = client.post(f"/accounts/{account_id}/verification", json=body, headers=staff)
    assert r.status_code == 200 and r.json["verified"] is True
    me = client.get("/me", headers=h.bearer(h.login(client, h.FOREIGNER_IIN))).json
    assert me["verified"] is True
    states = [e["data"] for e in h.events_of(db, CHANGED) if e["data"]["account_id"] == account_id]
    assert [(s["revision"], s["verified"]) for s in states] == [(1, False), (2, True)]
    [entry] = db.audit.find({"account_id": account_id, "type": "account.verified"})
    assert entry["actor_id"] and entry["detail"]["note"].startswith("passport")
    # Verified now: the operator no longer sees it, and a second verification changes nothing.
    assert client.get(f"/accounts/{account_id}", headers=staff).status_code == 404
    again = client.post(f"/accounts/{account_id}/verification", json=body, headers=h.admin(client))
    assert again.status_code == 200 and again.json["verified"] is True
    assert len([e for e in h.events_of(db, CHANGED) if e["data"]["account_id"] == account_id]) == 2


def test_only_operators_and_admins_verify_and_only_after_the_document(client, db, h):
    account_id = foreigner(client, db, h)
    citizen = h.register(client, db)
    body = {"document_checked": True}
    path = f"/accounts/{account_id}/verification"
    assert client.post(path, json=body).status_code == 401
    r = client.post(path, json=body, headers=h.bearer(h.login(client)))
    assert r.status_code == 403
    r = client.post(path, json=body, headers=h.bearer(h.login(client, h.FOREIGNER_IIN)))
    assert r.status_code == 403  # nobody verifies themselves
    admin = h.admin(client)
    r = client.post(path, json={"document_checked": False}, headers=admin)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "document_checked"
    r = client.post(path, json={"note": "x"}, headers=admin)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "document_checked"
    r = client.post("/accounts/nobody/verification", json=body, headers=admin)
    assert r.status_code == 404
    # A registry-proven cabinet is verified from the start; an operator cannot read it.
    staff = operator(client, db, h)
    assert client.get(f"/accounts/{citizen}", headers=staff).status_code == 404
    me = client.get("/me", headers=h.bearer(h.login(client))).json
    assert me["verified"] is True
    assert db.accounts.find_one({"_id": account_id})["verified"] is False


def test_a_cabinet_from_before_the_proof_is_verified_by_signing_in_with_a_code(client, db, h):
    """Before issue 10 anyone could register any citizen's IIN: such older cabinets count as
    unverified until their holder proves the IIN, as a sign-in by SMS code to a phone the
    mobile-citizens database links to it does."""
    account_id = h.register(client, db)
    db.accounts.update_one({"_id": account_id}, {"$unset": {"verified": "", "verification": ""}})
    tokens = h.login(client)
    assert client.get("/me", headers=h.bearer(tokens)).json["verified"] is False
    challenge = client.post("/otp", json={"iin": h.MOTHER_IIN, "phone": h.MOTHER_PHONE}).json
    [sent] = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "login"]
    body = {"challenge_id": challenge["challenge_id"], "code": sent["code"]}
    tokens = client.post("/sessions/otp", json=body).json
    assert client.get("/me", headers=h.bearer(tokens)).json["verified"] is True
    latest = [e["data"] for e in h.events_of(db, CHANGED) if e["data"]["account_id"] == account_id]
    assert latest[-1]["verified"] is True
    entry = db.audit.find_one({"account_id": account_id, "type": "account.verified"})
    assert entry["detail"]["method"] == "sign_in_otp"
    # A staff account from before keeps counting as verified.
    assert is_verified({"origin": "staff", "roles": ["teacher"]}) is True
    assert is_verified({"origin": "self", "person": {"source": "manual"}}) is False
