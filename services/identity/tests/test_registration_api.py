"""Registration in five steps, over HTTP, against the embedded database."""

import datetime as dt

import pytest

pytestmark = pytest.mark.integration


def test_full_registration_creates_one_cabinet_and_an_event(client, db, h):
    account_id = h.register(client, db)
    tokens = h.login(client)
    me = client.get("/me", headers=h.bearer(tokens)).json
    assert me["id"] == account_id
    assert me["person"]["surname"] and me["person"]["source"] == "registry"
    assert set(me["consents"]) == {"personal_data", "notifications", "rules"}
    assert all(c["given"] and c["at"] for c in me["consents"].values())
    [event] = [
        e
        for e in h.events_of(db, "identity.account.registered.v1")
        if e["data"]["origin"] == "self"
    ]
    assert event["data"]["account_id"] == account_id
    assert event["data"]["iin_masked"] == "********1048"
    assert h.MOTHER_IIN not in str(event)  # no full IIN for other agencies


def test_code_request_is_internal_and_in_the_language_asked(client, db, h):
    client.post("/registrations", json={"email": "a@example.kz", "language": "kk"})
    [doc] = list(db.outbox.find({"routing_key": "identity.code.requested.v1"}))
    assert doc["exchange"] == "identity.internal"
    assert doc["body"]["data"]["language"] == "kk"
    assert doc["body"]["data"]["purpose"] == "email_confirmation"


def test_taken_email_and_iin_are_409_with_a_way_to_recover(client, db, h):
    h.register(client, db)
    r = client.post("/registrations", json={"email": "AIGERIM@example.kz"})
    assert r.status_code == 409
    assert r.json["code"] == "email_taken" and r.json["recovery"] == "/password-resets"
    assert r.headers["Content-Type"] == "application/problem+json"
    reg = h.start(client, db, "other@example.kz")
    # Whether the IIN has a cabinet is told only after the proof.
    r = client.post(f"/registrations/{reg}/person", json={"iin": h.MOTHER_IIN})
    assert r.status_code == 200 and r.json["next_step"] == "person_confirmation"
    r = client.post(
        f"/registrations/{reg}/person/confirm", json={"code": h.code_for(db, f"{reg}.iin")}
    )
    assert r.status_code == 409 and r.json["code"] == "iin_taken"
    assert r.json["invalid_params"][0]["name"] == "iin"
    assert client.get(f"/registrations/{reg}").json["person"] is None


def test_wrong_codes_count_down_then_the_code_dies(client, db, h):
    reg = client.post("/registrations", json={"email": "x@example.kz"}).json["id"]
    good = h.last_code(db, "x@example.kz")
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        r = client.post(f"/registrations/{reg}/email/confirm", json={"code": wrong})
        assert r.status_code == 422 and r.json["attempts_left"] == left
        assert r.json["invalid_params"][0]["name"] == "code"
    r = client.post(f"/registrations/{reg}/email/confirm", json={"code": good})
    assert r.status_code == 410 and r.json["code"] == "code_attempts_exhausted"


def test_replayed_code_is_refused(client, db, h):
    reg = client.post("/registrations", json={"email": "y@example.kz"}).json["id"]
    code = h.last_code(db, "y@example.kz")
    assert (
        client.post(f"/registrations/{reg}/email/confirm", json={"code": code}).status_code == 200
    )
    r = client.post(f"/registrations/{reg}/email/confirm", json={"code": code})
    assert r.status_code == 409 and r.json["code"] == "code_used"


def test_code_expires_after_ten_minutes(client, db, h, clock):
    reg = client.post("/registrations", json={"email": "z@example.kz"}).json["id"]
    clock.advance(minutes=10, seconds=1)
    r = client.post(
        f"/registrations/{reg}/email/confirm", json={"code": h.last_code(db, "z@example.kz")}
    )
    assert r.status_code == 410 and r.json["code"] == "code_expired"


def test_resend_is_throttled(client, db, h, clock):
    reg = client.post("/registrations", json={"email": "r@example.kz"}).json["id"]
    r = client.post(f"/registrations/{reg}/email/code")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    clock.advance(seconds=61)
    assert client.post(f"/registrations/{reg}/email/code").status_code == 202
    assert len(h.codes_sent(db, "r@example.kz")) == 2


def _confirmed(client, db, h, email="f@example.kz"):
    return h.start(client, db, email)


@pytest.mark.parametrize(
    ("iin", "code"),
    [("950423451047", "iin_checksum"), ("951323451048", "iin_date"), ("12345", None)],
)
def test_bad_iins_name_the_field(client, db, h, iin, code):
    reg = _confirmed(client, db, h)
    r = client.post(f"/registrations/{reg}/person", json={"iin": iin})
    assert r.status_code == 422
    assert r.json["invalid_params"][0]["name"] == "iin"
    if code:
        assert r.json["code"] == code


def test_foreigner_enters_data_by_hand_and_contradictions_are_caught(client, db, h):
    reg = _confirmed(client, db, h)
    person = {**h.FOREIGNER, "birth_date": "1995-04-24"}
    r = client.post(f"/registrations/{reg}/person", json=person)
    assert r.status_code == 422 and r.json["code"] == "birth_date_contradicts_iin"
    assert r.json["invalid_params"][0]["name"] == "birth_date"
    assert "1995-04-23" not in r.get_data(as_text=True)  # what the IIN says is not echoed
    r = client.post(f"/registrations/{reg}/person", json={**h.FOREIGNER, "sex": "male"})
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "sex"
    r = client.post(f"/registrations/{reg}/person", json={**h.FOREIGNER, "citizenship": "KZ"})
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "citizenship"
    partial = {k: v for k, v in h.FOREIGNER.items() if k != "document"}
    reg2 = _confirmed(client, db, h, "f2@example.kz")
    r = client.post(f"/registrations/{reg2}/person", json=partial)
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "document"
    r = client.post(f"/registrations/{reg2}/person", json=h.FOREIGNER)
    assert r.status_code == 200, r.json
    assert r.json["person"]["source"] == "manual" and r.json["next_step"] == "contacts"
    assert r.json["verified"] is False and r.json["iin_proof"] is None


def test_steps_must_come_in_order(client, db, h):
    reg = client.post("/registrations", json={"email": "o@example.kz"}).json["id"]
    r = client.post(f"/registrations/{reg}/person", json={"iin": h.MOTHER_IIN})
    assert r.status_code == 409 and r.json["code"] == "email_not_confirmed"
    r = client.post(
        f"/registrations/{reg}/complete",
        json={"consents": {"personal_data": True, "notifications": True, "rules": True}},
    )
    assert r.status_code == 409 and r.json["next_step"] == "email_confirmation"


def test_consents_are_required(client, db, h):
    reg = _confirmed(client, db, h)
    h.prove(client, db, reg)
    h.give_phone(client, db, reg)
    client.put(
        f"/registrations/{reg}/password",
        json={"password": h.PASSWORD, "password_confirmation": h.PASSWORD},
    )
    r = client.post(
        f"/registrations/{reg}/complete",
        json={"consents": {"personal_data": False, "notifications": True, "rules": True}},
    )
    assert r.status_code == 422
    assert r.json["invalid_params"][0]["name"] == "consents.personal_data"


def test_password_policy_and_confirmation(client, db, h):
    reg = _confirmed(client, db, h)
    h.prove(client, db, reg)
    # The phone the IIN proof code went to, in another spelling: confirmed already.
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": "8 701 000 0001"})
    assert r.json["phone_confirmed"] is True and r.json["phone_confirmed_by"] == "iin_proof"
    r = client.put(
        f"/registrations/{reg}/password",
        json={"password": "short", "password_confirmation": "short"},
    )
    assert r.status_code == 422 and r.json["code"] == "password_policy"
    assert "too_short" in r.json["invalid_params"][0]["codes"]
    r = client.put(
        f"/registrations/{reg}/password",
        json={"password": h.PASSWORD, "password_confirmation": h.PASSWORD + "x"},
    )
    assert r.json["invalid_params"][0]["name"] == "password_confirmation"
    view = client.get(f"/registrations/{reg}").json
    assert view["phone"] == "+77010000001" and view["next_step"] == "password"


def test_bad_input_is_a_clear_4xx(client):
    r = client.post("/registrations", data="{not json", content_type="application/json")
    assert r.status_code == 400 and r.json["code"] == "malformed_json"
    r = client.post("/registrations", json={"email": "a@example.kz", "extra": 1})
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "extra"
    r = client.post("/registrations", json={"email": 5})
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "email"
    r = client.post("/registrations", json=["a"])
    assert r.status_code == 422
    r = client.post("/registrations", data="x" * (1024 * 1024 + 1), content_type="application/json")
    assert r.status_code == 413 and r.json["code"] == "payload_too_large"
    r = client.get("/registrations/nope")
    assert r.status_code == 404 and r.json["code"] == "registration_not_found"
    assert "Traceback" not in r.get_data(as_text=True)


def test_a_registration_may_look_up_only_a_few_iins(client, db, h):
    reg = _confirmed(client, db, h)
    for iin in ("230517512034", "100315544107", "950423451048"):
        r = client.post(f"/registrations/{reg}/person", json={"iin": iin})
        assert r.status_code == 200 and r.json["person"] is None
    r = client.post(f"/registrations/{reg}/person", json={"iin": "950423451048"})
    assert r.status_code == 429 and r.json["code"] == "too_many_lookups"


def test_problems_speak_the_client_language(client, db, h):
    h.register(client, db)
    for lang, words in (("kk", "ЖСН"), ("ru", "ИИН"), ("en", "IIN")):
        r = client.post("/sessions", json={"iin": h.MOTHER_IIN, "password": "Wrong-pass-1"},
                        headers={"Accept-Language": lang})  # fmt: skip
        assert r.json["code"] == "invalid_credentials" and words in r.json["title"]


def test_a_parent_registering_with_their_own_iin_is_warned(client, db, h):
    # 700214386562: an adult in the development population with a 17-year-old child.
    reg = _confirmed(client, db, h)
    r = client.post(f"/registrations/{reg}/person", json={"iin": "700214386562"})
    assert r.status_code == 200 and r.json["warnings"] == []  # nothing said before the proof
    proven = h.prove(client, db, reg, "700214386562")
    assert [w["code"] for w in proven["warnings"]] == ["looks_like_parent"]
    reg2 = _confirmed(client, db, h, email="teen@example.kz")
    assert h.prove(client, db, reg2, "100315544107")["warnings"] == []


def test_guessing_codes_across_registrations_is_limited_per_client(client, db, h, deps):
    free = deps.settings.code_failures_per_address.free_failures
    statuses = []
    for i in range(free // 5 + 2):
        email = f"guess{i}@example.kz"
        reg = client.post("/registrations", json={"email": email}).json["id"]
        wrong = "000000" if h.last_code(db, email) != "000000" else "111111"
        for _ in range(5):
            r = client.post(f"/registrations/{reg}/email/confirm", json={"code": wrong})
            statuses.append(r.status_code)
    # The free failures, then the next one starts a delay.
    assert statuses[: free + 1] == [422] * (free + 1)
    assert statuses[free + 1] == 429


def test_notification_consent_can_be_withdrawn_and_given_again(client, db, h):
    account_id = h.register(client, db)
    tokens = h.login(client)
    r = client.put("/me/consents", json={"notifications": False}, headers=h.bearer(tokens))
    assert r.status_code == 200 and r.json["notifications"]["given"] is False
    assert r.json["personal_data"]["given"] is True
    r = client.put("/me/consents", json={"personal_data": False}, headers=h.bearer(tokens))
    assert r.status_code == 422
    assert "personal_data" in {p["name"] for p in r.json["invalid_params"]}
    client.put("/me/consents", json={"notifications": True}, headers=h.bearer(tokens))
    changes = [e["data"] for e in h.events_of(db, "identity.consent.changed.v1")]
    assert changes == [
        {"account_id": account_id, "consent": "notifications", "given": False},
        {"account_id": account_id, "consent": "notifications", "given": True},
    ]
    history = db.accounts.find_one({"_id": account_id})["consent_history"]
    assert [e["given"] for e in history] == [False, True]


def test_dates_are_iso_8601_everywhere(client, db, h):
    h.register(client, db)
    me = client.get("/me", headers=h.bearer(h.login(client))).json
    for consent in me["consents"].values():
        dt.datetime.fromisoformat(consent["at"])
    dt.datetime.fromisoformat(me["created_at"])
