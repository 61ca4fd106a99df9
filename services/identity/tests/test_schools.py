"""Parents' accounts made by a school (seed 004, issue 10): by the school's deputy head only,
one by one or from a CSV file, each with a random one-time password by SMS, never 12345."""

import datetime as dt
import io

import pytest
from pymongo.errors import OperationFailure

from identity.usecases import schools

pytestmark = pytest.mark.integration

SCHOOL = "school-42"
DEPUTY_IIN = "700214386562"  # an adult of the development registry, phone +77000266769
DEPUTY_PHONE = "+77000266769"
NEW = "Deputy-Head-2026"


@pytest.fixture
def deputy(client, db, h):
    """A school_admin made by an admin, signed in after changing the one-time password."""
    body = {
        "iin": DEPUTY_IIN,
        "phone": DEPUTY_PHONE,
        "roles": ["school_admin"],
        "organization_id": SCHOOL,
    }
    r = client.post("/accounts", json=body, headers=h.admin(client))
    assert r.status_code == 201, r.json
    [sent] = h.codes_sent(db, DEPUTY_PHONE)
    first = h.login(client, DEPUTY_IIN, sent["code"])
    change = {
        "current_password": sent["code"],
        "new_password": NEW,
        "new_password_confirmation": NEW,
    }
    assert client.post("/me/password", json=change, headers=h.bearer(first)).status_code == 200
    return h.bearer(h.login(client, DEPUTY_IIN, NEW))


def upload(client, headers, text: str, name="parents.csv"):
    data = {"file": (io.BytesIO(text.encode("utf-8")), name, "text/csv")}
    return client.post(
        "/schools/accounts/import", data=data, headers=headers, content_type="multipart/form-data"
    )


def test_a_deputy_head_creates_a_parent_with_a_random_one_time_password(
    client, db, h, deputy, clock
):
    [parent] = h.adults(1)
    r = client.post("/schools/accounts", json={"iin": parent["iin"]}, headers=deputy)
    assert r.status_code == 201, r.json
    assert r.json["password_sent_to"] == "sms" and r.json["roles"] == ["citizen"]
    assert r.json["verified"] is True  # the password went to the phone linked to the IIN
    [sent] = h.codes_sent(db, parent["phones"][0])
    assert sent["purpose"] == "initial_password" and sent["code"] != "12345"
    assert len(sent["code"]) >= 12 and sent["code"] not in r.get_data(as_text=True)
    expires = dt.datetime.fromisoformat(sent["expires_at"])
    assert expires - clock.now == dt.timedelta(hours=72)
    tokens = h.login(client, parent["iin"], sent["code"])
    assert tokens["password_change_required"] is True
    account = db.accounts.find_one({"iin": parent["iin"]})
    assert account["created_by_school"] == SCHOOL and account["must_change_password"] is True
    assert account["person"]["surname"] == parent["surname"]
    audit = db.audit.find_one({"account_id": account["_id"], "type": "account.created"})
    assert audit["detail"]["origin"] == "school" and audit["actor_id"]


def test_the_one_time_password_expires_after_72_hours(client, db, h, deputy, clock):
    [parent] = h.adults(1, skip=1)
    assert client.post("/schools/accounts", json={"iin": parent["iin"]}, headers=deputy).json
    [sent] = h.codes_sent(db, parent["phones"][0])
    clock.advance(hours=72, seconds=1)
    r = client.post("/sessions", json={"iin": parent["iin"], "password": sent["code"]})
    assert r.status_code == 401 and r.json["code"] == "one_time_password_expired"
    r = client.post("/sessions", json={"iin": parent["iin"], "password": "Wrong-pass-1"})
    assert r.status_code == 401 and r.json["code"] == "invalid_credentials"


def test_a_phone_the_school_types_makes_an_unverified_account(client, db, h, deputy):
    [parent] = h.adults(1, skip=2)
    body = {"iin": parent["iin"], "phone": "+77015550177", "email": "Parent@Example.kz"}
    r = client.post("/schools/accounts", json=body, headers=deputy)
    assert r.status_code == 201, r.json
    assert r.json["verified"] is False and r.json["email"] == "parent@example.kz"
    assert [c["purpose"] for c in h.codes_sent(db, "+77015550177")] == ["initial_password"]
    assert h.codes_sent(db, parent["phones"][0]) == []


def test_one_account_is_checked_and_refused_with_the_reason(client, db, h, deputy):
    h.register(client, db)
    for body, status, code, field in (
        ({"iin": h.FOREIGNER_IIN}, 422, "iin_not_in_registry", "iin"),
        ({"iin": h.MOTHER_IIN}, 409, "iin_taken", "iin"),
        ({"iin": "950423451047"}, 422, "iin_checksum", "iin"),
        ({"iin": h.adults(1, 3)[0]["iin"], "phone": "+7 727 250 0000"}, 422, "phone_not_mobile",
         "phone"),
        ({"iin": "230517512034"}, 422, "phone_required", "phone"),
    ):  # fmt: skip
        r = client.post("/schools/accounts", json=body, headers=deputy)
        assert (r.status_code, r.json["code"]) == (status, code), (body, r.json)
        assert r.json["invalid_params"][0]["name"] == field
    assert db.accounts.count_documents({"created_by_school": SCHOOL}) == 0


def test_only_a_school_admin_creates_parents(client, db, h):
    h.register(client, db)
    body = {"iin": h.adults(1)[0]["iin"]}
    assert client.post("/schools/accounts", json=body).status_code == 401
    r = client.post("/schools/accounts", json=body, headers=h.bearer(h.login(client)))
    assert r.status_code == 403
    r = client.post("/schools/accounts", json=body, headers=h.admin(client))
    assert r.status_code == 403  # admins make staff with POST /accounts, not a school's parents
    r = upload(client, h.bearer(h.login(client)), "iin\n" + body["iin"])
    assert r.status_code == 403
    r = client.post(
        "/accounts", json={"iin": DEPUTY_IIN, "phone": DEPUTY_PHONE, "roles": ["school_admin"]},
        headers=h.admin(client),
    )  # fmt: skip
    assert r.status_code == 422 and r.json["code"] == "organization_required"


def test_a_csv_creates_each_row_whole_or_refuses_it_with_reasons(client, db, h, deputy):
    h.register(client, db)
    a, b, c = h.adults(3, skip=4)
    text = (
        "\ufeffIIN;Phone;Email;ФИО\r\n"
        f"{a['iin']};;;{a['surname']}\r\n"
        f"{b['iin']};+77015550188;b@example.kz;\r\n"
        "950423451047;;;typo\r\n"
        f"{h.FOREIGNER_IIN};;;not in the registry\r\n"
        f"{c['iin']};12;not-an-email;\r\n"
        f"{a['iin']};;;twice\r\n"
        f"{h.MOTHER_IIN};;;has a cabinet\r\n"
        "\r\n"
    )
    r = upload(client, deputy, text)
    assert r.status_code == 200, r.json
    report = r.json
    assert report["rows"] == 7 and report["ignored_columns"] == ["фио"]
    assert [row["row"] for row in report["created"]] == [2, 3]
    assert [row["verified"] for row in report["created"]] == [True, False]
    assert report["created"][0]["password_sent_to"].startswith("+7 ")
    reasons = {row["row"]: [(x["field"], x["code"]) for x in row["reasons"]]
               for row in report["refused"]}  # fmt: skip
    assert reasons == {
        4: [("iin", "iin_checksum")],
        5: [("iin", "iin_not_in_registry")],
        6: [("phone", "phone_invalid"), ("email", "email_invalid")],
        7: [("iin", "duplicate_in_file")],
        8: [("iin", "iin_taken")],
    }
    assert h.MOTHER_IIN not in r.get_data(as_text=True)  # the report masks the IINs
    sms = [
        d["body"]["data"]
        for d in db.outbox.find({"routing_key": "identity.code.requested.v1"})
        if d["body"]["data"]["purpose"] == "initial_password"
        and d["body"]["data"]["to"] != DEPUTY_PHONE
    ]
    assert sorted(s["to"] for s in sms) == sorted([a["phones"][0], "+77015550188"])
    # The same file again creates nobody twice and sends nothing.
    again = upload(client, deputy, text).json
    assert again["created"] == []
    assert {x["code"] for row in again["refused"] for x in row["reasons"]} >= {"already_created"}
    assert db.accounts.count_documents({"created_by_school": SCHOOL}) == 2
    assert (
        len([d for d in db.outbox.find() if d["body"]["data"].get("purpose") == "initial_password"])
        == len(sms) + 1
    )


def test_a_row_that_fails_to_be_stored_leaves_nothing_behind(client, db, h, deputy, monkeypatch):
    a, b, c = h.adults(3, skip=8)
    real = schools.announce_account

    def flaky(deps, session, account_id):
        if db.accounts.find_one({"_id": account_id}, session=session)["iin"] == b["iin"]:
            raise OperationFailure("the database gave up")
        return real(deps, session, account_id)

    monkeypatch.setattr(schools, "announce_account", flaky)
    r = upload(client, deputy, f"iin\n{a['iin']}\n{b['iin']}\n{c['iin']}\n")
    assert r.status_code == 200, r.json
    assert [row["row"] for row in r.json["created"]] == [2, 4]
    assert r.json["refused"][0]["reasons"][0]["code"] == "row_failed"
    assert db.accounts.find_one({"iin": b["iin"]}) is None
    assert h.codes_sent(db, b["phones"][0]) == []
    assert not [d for d in db.outbox.find() if b["iin"] in str(d)]
    monkeypatch.setattr(schools, "announce_account", real)
    again = upload(client, deputy, f"iin\n{b['iin']}\n").json
    assert [row["row"] for row in again["created"]] == [2]


def test_the_file_is_checked(client, db, h, deputy, deps):
    most = deps.settings.school_import_max_rows
    rows = "".join(f"{h.FOREIGNER_IIN}\n" for _ in range(most + 1))
    r = upload(client, deputy, "iin\n" + rows)
    assert r.status_code == 422 and r.json["code"] == "too_many_rows"
    for text, code in (
        ("", "file_empty"),
        (";;;\n", "file_empty"),
        ("phone,email\n+77015550101,a@b.kz\n", "file_header"),
        ("iin,iin\n1,2\n", "file_header"),
    ):
        r = upload(client, deputy, text)
        assert (r.status_code, r.json["code"]) == (422, code), (text, r.json)
        assert r.json["invalid_params"][0]["name"] == "file"
    data = {"file": (io.BytesIO("iin\n\xff".encode("latin-1")), "x.csv")}
    r = client.post(
        "/schools/accounts/import", data=data, headers=deputy, content_type="multipart/form-data"
    )
    assert r.status_code == 422 and r.json["code"] == "file_encoding"
    r = client.post("/schools/accounts/import", json={"file": "iin"}, headers=deputy)
    assert r.status_code == 415
    r = client.post(
        "/schools/accounts/import", data={}, headers=deputy, content_type="multipart/form-data"
    )
    assert r.status_code == 422 and r.json["invalid_params"][0]["name"] == "file"


def test_a_thousand_rows_are_taken(client, db, h, deputy, deps):
    rows = "".join(f"{h.FOREIGNER_IIN}\n" for _ in range(deps.settings.school_import_max_rows))
    r = upload(client, deputy, "iin\n" + rows)
    assert r.status_code == 200 and r.json["rows"] == deps.settings.school_import_max_rows
    assert len(r.json["refused"]) == deps.settings.school_import_max_rows
