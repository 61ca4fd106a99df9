"""Registration proves the IIN belongs to the registrant (issue 10): nothing of a registry
person is shown or kept before the proof, data by hand only for IINs the registry does not
know, and the phone is confirmed before the cabinet is created."""

import pytest

from identity.tools import devca

pytestmark = pytest.mark.integration

SURNAME = "Ахметова"  # the registry's surname of MOTHER_IIN


def person_step(client, reg, **body):
    return client.post(f"/registrations/{reg}/person", json=body)


def test_step_2_by_iin_shows_nothing_until_the_code_from_the_linked_phone(client, db, h):
    reg = h.start(client, db)
    r = person_step(client, reg, iin=h.MOTHER_IIN)
    assert r.status_code == 200, r.json
    text = r.get_data(as_text=True)
    assert SURNAME not in text and "document" not in text and "address" not in text
    assert r.json["person"] is None and r.json["next_step"] == "person_confirmation"
    proof = r.json["iin_proof"]
    assert proof["sms_sent_to"] == "+7 701 ***-**-01" and proof["phones"] == ["+7 701 ***-**-01"]
    assert proof["iin_masked"] == "********1048" and proof["confirmed"] is False
    assert set(proof["methods"]) == {"sms", "eds"}
    [sent] = h.codes_sent(db, h.MOTHER_PHONE)
    assert sent["purpose"] == "iin_confirmation" and sent["channel"] == "sms"
    assert client.get(f"/registrations/{reg}").json["person"] is None
    stored = db.registrations.find_one({"_id": reg})
    assert "person" not in stored and SURNAME not in str(stored)
    r = client.post(f"/registrations/{reg}/person/confirm", json={"code": sent["code"]})
    assert r.status_code == 200, r.json
    assert r.json["person"]["surname"] == SURNAME and r.json["person"]["source"] == "registry"
    assert r.json["person"]["document"] and r.json["verified"] is True
    assert r.json["iin_proof"]["confirmed"] is True and r.json["iin_proof"]["method"] == "sms"
    assert r.json["next_step"] == "contacts"


def test_wrong_proof_codes_count_down_and_the_code_dies(client, db, h):
    reg = h.start(client, db)
    person_step(client, reg, iin=h.MOTHER_IIN)
    good = h.code_for(db, f"{reg}.iin")
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        r = client.post(f"/registrations/{reg}/person/confirm", json={"code": wrong})
        assert r.status_code == 422 and r.json["attempts_left"] == left
        assert SURNAME not in r.get_data(as_text=True)
    r = client.post(f"/registrations/{reg}/person/confirm", json={"code": good})
    assert r.status_code == 410 and r.json["code"] == "code_attempts_exhausted"
    assert client.get(f"/registrations/{reg}").json["person"] is None


def test_the_proof_code_expires_and_resends_are_throttled(client, db, h, clock):
    reg = h.start(client, db)
    person_step(client, reg, iin=h.MOTHER_IIN)
    first = h.code_for(db, f"{reg}.iin")
    r = client.post(f"/registrations/{reg}/person/code", json={})
    assert r.status_code == 429 and r.json["code"] == "resend_too_soon"
    clock.advance(minutes=10, seconds=1)
    r = client.post(f"/registrations/{reg}/person/confirm", json={"code": first})
    assert r.status_code == 410 and r.json["code"] == "code_expired"
    r = client.post(f"/registrations/{reg}/person/code", json={})
    assert r.status_code == 202
    second = h.code_for(db, f"{reg}.iin")
    r = client.post(f"/registrations/{reg}/person/confirm", json={"code": second})
    assert r.status_code == 200 and r.json["verified"] is True
    r = client.post(f"/registrations/{reg}/person/code", json={"phone_index": 3})
    assert r.status_code == 409  # proven: nothing to send any more


def test_a_citizens_iin_cannot_be_taken_with_data_by_hand(client, db, h):
    """The hole: step 2 by hand took any citizen's IIN with citizenship RU."""
    reg = h.start(client, db)
    forged = {
        **h.FOREIGNER,
        "iin": h.MOTHER_IIN,
        "surname": "Anybody",
        "citizenship": "RU",
    }
    r = person_step(client, reg, **forged)
    assert r.status_code == 422 and r.json["code"] == "iin_in_registry"
    assert r.json["invalid_params"][0]["name"] == "iin"
    assert SURNAME not in r.get_data(as_text=True)
    assert db.registrations.find_one({"_id": reg}).get("person") is None


def test_data_by_hand_for_an_unknown_iin_make_an_unverified_cabinet(client, db, h):
    reg = h.start(client, db, "anna@example.kz")
    r = person_step(client, reg, **h.FOREIGNER)
    assert r.status_code == 200 and r.json["verified"] is False
    assert r.json["next_step"] == "contacts"
    h.give_phone(client, db, reg, "+77015550101")
    account_id = h.finish(client, reg)
    tokens = h.login(client, h.FOREIGNER_IIN)
    me = client.get("/me", headers=h.bearer(tokens)).json
    assert me["id"] == account_id and me["verified"] is False
    assert me["person"]["source"] == "manual"
    changed = [
        e["data"]
        for e in h.events_of(db, "identity.account.changed.v1")
        if e["data"]["account_id"] == account_id
    ]
    assert [c["verified"] for c in changed] == [False]


def test_an_unknown_iin_without_data_is_told_to_enter_them(client, db, h):
    reg = h.start(client, db)
    r = person_step(client, reg, iin=h.FOREIGNER_IIN)
    assert r.status_code == 422 and r.json["code"] == "iin_not_in_registry"


def test_a_taken_iin_is_told_only_after_the_proof(client, db, h):
    h.register(client, db)
    reg = h.start(client, db, "second@example.kz")
    r = person_step(client, reg, iin=h.MOTHER_IIN)
    assert r.status_code == 200 and "taken" not in r.get_data(as_text=True)
    wrong = "000000" if h.code_for(db, f"{reg}.iin") != "000000" else "111111"
    r = client.post(f"/registrations/{reg}/person/confirm", json={"code": wrong})
    assert r.status_code == 422 and r.json["code"] == "code_wrong"
    r = client.post(
        f"/registrations/{reg}/person/confirm", json={"code": h.code_for(db, f"{reg}.iin")}
    )
    assert r.status_code == 409 and r.json["code"] == "iin_taken"
    assert r.json["recovery"] == "/password-resets"


def test_step_2_lookups_are_limited_per_registration(client, db, h, deps):
    reg = h.start(client, db)
    for _ in range(deps.settings.registration_max_iins):
        assert person_step(client, reg, iin=h.MOTHER_IIN, proof="eds").status_code == 200
    r = person_step(client, reg, iin=h.MOTHER_IIN, proof="eds")
    assert r.status_code == 429 and r.json["code"] == "too_many_lookups"


def test_the_iin_proven_by_a_signature_certificate_and_signature(client, db, h, eds_dir):
    reg = h.start(client, db)
    r = person_step(client, reg, iin=h.MOTHER_IIN, proof="eds")
    assert r.status_code == 200 and r.json["iin_proof"]["sms_sent_to"] is None
    assert h.codes_sent(db, h.MOTHER_PHONE) == []  # chose to sign: no SMS
    cert, key = devca.issue_certificate(eds_dir, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    ch = client.post(f"/registrations/{reg}/person/eds-challenge")
    assert ch.status_code == 201, ch.json
    body = {
        "challenge_id": ch.json["challenge_id"],
        "certificate": cert,
        "signature": devca.sign_nonce(key, ch.json["nonce"]),
    }
    r = client.post(f"/registrations/{reg}/person/confirm", json=body)
    assert r.status_code == 200, r.json
    assert r.json["person"]["surname"] == SURNAME and r.json["iin_proof"]["method"] == "eds"
    # Signed, so no phone is confirmed by it: step 3 sends a code even to the linked phone.
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": h.MOTHER_PHONE})
    assert r.json["next_step"] == "contacts_confirmation"


@pytest.mark.parametrize("detached", [False, True])
def test_the_iin_proven_by_a_cms_signature(client, db, h, eds_dir, detached):
    reg = h.start(client, db)
    person_step(client, reg, iin=h.MOTHER_IIN, proof="eds")
    cert, key = devca.issue_certificate(eds_dir, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    ch = client.post(f"/registrations/{reg}/person/eds-challenge").json
    cms = devca.sign_cms(cert, key, ch["nonce"], detached=detached)
    r = client.post(
        f"/registrations/{reg}/person/confirm",
        json={"challenge_id": ch["challenge_id"], "cms": cms},
    )
    assert r.status_code == 200, r.json
    assert r.json["verified"] is True


def test_a_signature_for_another_iin_or_another_registration_proves_nothing(
    client, db, h, eds_dir, tmp_path
):
    reg = h.start(client, db)
    person_step(client, reg, iin=h.MOTHER_IIN, proof="eds")
    cert, key = devca.issue_certificate(eds_dir, "100315544107", "АХМЕТОВ ТИМУР")
    ch = client.post(f"/registrations/{reg}/person/eds-challenge").json
    cms = devca.sign_cms(cert, key, ch["nonce"])
    r = client.post(
        f"/registrations/{reg}/person/confirm",
        json={"challenge_id": ch["challenge_id"], "cms": cms},
    )
    assert r.status_code == 422 and r.json["code"] == "eds_iin_mismatch"
    assert r.json["invalid_params"][0]["name"] == "cms"
    # The nonce is used once, whatever the outcome.
    r = client.post(
        f"/registrations/{reg}/person/confirm",
        json={"challenge_id": ch["challenge_id"], "cms": cms},
    )
    assert r.status_code == 410
    # A nonce of another registration, or of sign-in, does not prove this one.
    other = h.start(client, db, "other@example.kz")
    person_step(client, other, iin=h.MOTHER_IIN, proof="eds")
    mine, my_key = devca.issue_certificate(eds_dir, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    foreign = client.post(f"/registrations/{other}/person/eds-challenge").json
    login = client.post("/eds/challenges").json
    for ch in (foreign, login):
        body = {
            "challenge_id": ch["challenge_id"],
            "cms": devca.sign_cms(mine, my_key, ch["nonce"]),
        }
        r = client.post(f"/registrations/{reg}/person/confirm", json=body)
        assert r.status_code == 410, r.json
    # A certificate of a CA nobody trusts.
    untrusted_dir = tmp_path / "other-ca"
    devca.init_ca(untrusted_dir)
    bad, bad_key = devca.issue_certificate(untrusted_dir, h.MOTHER_IIN, "АХМЕТОВА АЙГЕРИМ")
    ch = client.post(f"/registrations/{reg}/person/eds-challenge").json
    body = {"challenge_id": ch["challenge_id"], "cms": devca.sign_cms(bad, bad_key, ch["nonce"])}
    r = client.post(f"/registrations/{reg}/person/confirm", json=body)
    assert r.status_code == 422 and r.json["code"] == "eds_untrusted"
    assert client.get(f"/registrations/{reg}").json["person"] is None


def test_the_confirm_body_is_one_proof(client, db, h):
    reg = h.start(client, db)
    person_step(client, reg, iin=h.MOTHER_IIN)
    for body, field in (
        ({}, "code"),
        ({"code": "123456", "cms": "AAAA"}, "cms"),
        ({"challenge_id": "x"}, "certificate"),
        ({"challenge_id": "x", "cms": "AAAA", "signature": "AAAA"}, "signature"),
    ):
        r = client.post(f"/registrations/{reg}/person/confirm", json=body)
        assert r.status_code == 422, (body, r.json)
        assert field in {p["name"] for p in r.json["invalid_params"]}, (body, r.json)
    r = client.post(f"/registrations/{reg}/person/confirm", json={"challenge_id": "x", "cms": "@"})
    assert r.status_code == 410  # an unknown challenge: refused before the CMS is read


def test_the_phone_must_be_confirmed_before_the_cabinet_is_created(client, db, h):
    reg = h.start(client, db)
    h.prove(client, db, reg)
    other = "+77015550199"
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": other})
    assert r.status_code == 200 and r.json["phone_confirmed"] is False
    assert r.json["next_step"] == "contacts_confirmation"
    [sent] = h.codes_sent(db, other)
    assert sent["purpose"] == "phone_confirmation" and sent["channel"] == "sms"
    client.put(
        f"/registrations/{reg}/password",
        json={"password": h.PASSWORD, "password_confirmation": h.PASSWORD},
    )
    consents = {"consents": {"personal_data": True, "notifications": True, "rules": True}}
    r = client.post(f"/registrations/{reg}/complete", json=consents)
    assert r.status_code == 422 and r.json["code"] == "phone_not_confirmed"
    assert r.json["next_step"] == "contacts_confirmation"
    assert r.json["invalid_params"][0]["name"] == "phone"
    wrong = "000000" if sent["code"] != "000000" else "111111"
    r = client.post(f"/registrations/{reg}/contacts/confirm", json={"code": wrong})
    assert r.status_code == 422 and r.json["attempts_left"] == 4
    r = client.post(f"/registrations/{reg}/contacts/confirm", json={"code": sent["code"]})
    assert r.status_code == 200 and r.json["phone_confirmed_by"] == "code"
    r = client.post(f"/registrations/{reg}/complete", json=consents)
    assert r.status_code == 201
    account = db.accounts.find_one({"_id": r.json["account_id"]})
    assert account["phone"] == other and account["phone_verified_at"]
    assert account["verified"] is True and account["verification"]["method"] == "registry_sms"


def test_the_phone_the_proof_went_to_counts_as_confirmed(client, db, h):
    reg = h.start(client, db)
    h.prove(client, db, reg)
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": h.MOTHER_PHONE})
    assert r.json["phone_confirmed"] is True and r.json["phone_confirmed_by"] == "iin_proof"
    assert r.json["next_step"] == "password"
    assert [c["purpose"] for c in h.codes_sent(db, h.MOTHER_PHONE)] == ["iin_confirmation"]


def test_a_new_iin_starts_step_2_again_and_clears_what_followed(client, db, h):
    reg = h.start(client, db)
    h.prove(client, db, reg)
    h.give_phone(client, db, reg)
    r = person_step(client, reg, iin="100315544107")
    assert r.status_code == 200 and r.json["person"] is None
    assert r.json["phone"] is None and r.json["next_step"] == "person_confirmation"


def test_steps_2_and_3_in_order(client, db, h):
    reg = client.post("/registrations", json={"email": "o@example.kz"}).json["id"]
    for path, body in (
        ("person/code", {}),
        ("person/eds-challenge", None),
        ("person/confirm", {"code": "123456"}),
    ):
        r = client.post(f"/registrations/{reg}/{path}", json=body)
        assert r.status_code == 409, (path, r.json)
    reg = h.start(client, db)
    assert client.post(f"/registrations/{reg}/person/code", json={}).status_code == 409
    assert client.post(f"/registrations/{reg}/contacts/code").status_code == 409
    r = client.post(f"/registrations/{reg}/contacts/confirm", json={"code": "123456"})
    assert r.status_code == 409 and r.json["code"] == "contacts_missing"
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": h.MOTHER_PHONE})
    assert r.status_code == 409 and r.json["code"] == "person_missing"
