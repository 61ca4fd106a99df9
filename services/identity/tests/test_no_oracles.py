"""No oracles (issue 10): the answers say nothing about whether an account exists, whether a
phone is linked to an IIN, or what a stranger's registry record holds."""

import pytest

pytestmark = pytest.mark.integration

TEEN_IIN = "100315544107"  # in the registry, phone +77010000003, no cabinet in these tests


def wrong_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def shape(response) -> tuple:
    body = response.json
    return (
        response.status_code,
        body.get("code"),
        body.get("attempts_left"),
        sorted(body),
        tuple(p["name"] for p in body.get("invalid_params", [])),
    )


def test_otp_answers_alike_and_sends_only_to_a_linked_phone_of_a_cabinet(client, db, h):
    h.register(client, db)
    cases = {
        "cabinet, linked phone": (h.MOTHER_IIN, h.MOTHER_PHONE),
        "cabinet, phone not linked": (h.MOTHER_IIN, "+77015550123"),
        "no cabinet, linked phone": (TEEN_IIN, "+77010000003"),
        "unknown IIN": (h.FOREIGNER_IIN, "+77015550124"),
    }
    answers = {}
    for name, (iin, phone) in cases.items():
        r = client.post("/otp", json={"iin": iin, "phone": phone})
        assert r.status_code == 202, (name, r.json)
        assert sorted(r.json) == ["challenge_id", "expires_at"], name
        answers[name] = r.json["challenge_id"]
    logins = [
        d["body"]["data"]
        for d in db.outbox.find({"routing_key": "identity.code.requested.v1"})
        if d["body"]["data"]["purpose"] == "login"
    ]
    assert [c["to"] for c in logins] == [h.MOTHER_PHONE]
    real = logins[0]["code"]
    # Wrong codes fail the same way against every challenge, to the last try and after.
    sequences = {
        name: [
            shape(
                client.post(
                    "/sessions/otp", json={"challenge_id": challenge, "code": wrong_for(real)}
                )
            )
            for _ in range(6)
        ]
        for name, challenge in answers.items()
    }
    first = sequences["cabinet, linked phone"]
    assert [s[2] for s in first[:5]] == [4, 3, 2, 1, 0] and first[5][1] == "code_attempts_exhausted"
    assert all(seq == first for seq in sequences.values()), sequences


def test_a_challenge_sent_to_nobody_never_accepts_a_code(client, db, h, deps):
    challenge = client.post("/otp", json={"iin": h.FOREIGNER_IIN, "phone": "+77015550124"}).json
    doc = db.challenges.find_one({"_id": challenge["challenge_id"]})
    assert doc["account_id"] is None and doc["kind"] == "otp"
    for candidate in ("000000", "123456", "999999"):
        r = client.post(
            "/sessions/otp", json={"challenge_id": challenge["challenge_id"], "code": candidate}
        )
        assert r.status_code == 422 and r.json["code"] == "code_wrong"


def test_wrong_passwords_look_alike_for_an_account_and_for_nobody(client, db, h, clock):
    h.register(client, db)
    sequences = {}
    for iin in (h.MOTHER_IIN, h.FOREIGNER_IIN):
        statuses = []
        for _ in range(8):
            r = client.post("/sessions", json={"iin": iin, "password": "Wrong-pass-1"})
            statuses.append((r.status_code, r.json["code"]))
        sequences[iin] = statuses
    assert sequences[h.MOTHER_IIN] == sequences[h.FOREIGNER_IIN]
    assert (429, "too_many_requests") in sequences[h.MOTHER_IIN]


def test_recovery_codes_fail_alike_for_an_account_and_for_nobody(client, db, h):
    h.register(client, db)
    real = client.post("/password-resets", json={"iin": h.MOTHER_IIN}).json["id"]
    nobody = client.post("/password-resets", json={"iin": h.FOREIGNER_IIN}).json["id"]
    [sent] = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "password_reset"]
    body = {"code": wrong_for(sent["code"]), "new_password": "Newpass-2026"}
    body["new_password_confirmation"] = body["new_password"]
    a = [shape(client.post(f"/password-resets/{real}/complete", json=body)) for _ in range(6)]
    b = [shape(client.post(f"/password-resets/{nobody}/complete", json=body)) for _ in range(6)]
    assert a == b and a[0][1] == "code_wrong"


def test_step_2_answers_alike_whether_or_not_the_iin_has_a_cabinet(client, db, h):
    h.register(client, db)
    with_cabinet = h.start(client, db, "one@example.kz")
    without = h.start(client, db, "two@example.kz")
    a = client.post(f"/registrations/{with_cabinet}/person", json={"iin": h.MOTHER_IIN})
    b = client.post(f"/registrations/{without}/person", json={"iin": TEEN_IIN})
    assert a.status_code == b.status_code == 200
    assert sorted(a.json) == sorted(b.json)
    assert a.json["next_step"] == b.json["next_step"] == "person_confirmation"
    for response in (a, b):
        text = response.get_data(as_text=True)
        assert "Ахмет" not in text and "taken" not in text
    # A registry person's data by hand: refused without saying which field matched or not.
    forged = {
        **h.FOREIGNER,
        "iin": TEEN_IIN,
        "surname": "Ахметов",
        "birth_date": "2010-03-15",
        "sex": "male",
    }
    c = client.post(f"/registrations/{without}/person", json=forged)
    d = client.post(f"/registrations/{without}/person", json={**forged, "surname": "Other"})
    assert c.status_code == d.status_code == 422
    assert c.json["code"] == d.json["code"] == "iin_in_registry"
    assert c.json["invalid_params"] == d.json["invalid_params"]
