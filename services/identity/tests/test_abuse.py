"""Abuse resistance (issue 10): many honest people behind one address get through, guessing is
stopped per account, and nobody pumps SMS through identity."""

import datetime as dt
import logging

import pytest
from prometheus_client import REGISTRY

from edu_common.kz.iin import make_iin
from identity import store
from identity.domain import roles
from identity.usecases.staff import _account_doc

pytestmark = pytest.mark.integration

ROOM = {"REMOTE_ADDR": "10.20.30.40"}  # a college computer room behind one NAT address


def limits_reached(purpose: str, scope: str) -> float:
    labels = {"purpose": purpose, "scope": scope}
    return REGISTRY.get_sample_value("identity_code_limits_reached_total", labels) or 0.0


def test_thirty_people_behind_one_address_register_and_sign_in_in_five_minutes(
    client, db, h, clock
):
    started = clock.now
    for i, person in enumerate(h.adults(30)):
        email = f"student{i}@college.kz"
        r = client.post("/registrations", json={"email": email}, environ_base=ROOM)
        assert r.status_code == 201, r.json
        reg = r.json["id"]
        good = h.last_code(db, email)
        typo = "000000" if good != "000000" else "111111"  # everyone mistypes once
        r = client.post(
            f"/registrations/{reg}/email/confirm", json={"code": typo}, environ_base=ROOM
        )
        assert r.status_code == 422, r.json
        r = client.post(
            f"/registrations/{reg}/email/confirm", json={"code": good}, environ_base=ROOM
        )
        assert r.status_code == 200, r.json
        h.prove(client, db, reg, person["iin"], environ_base=ROOM)
        # Half give the phone the proof went to, half another one with its own code.
        phone = person["phones"][0] if i % 2 else f"+7701555{i:04d}"
        h.give_phone(client, db, reg, phone, environ_base=ROOM)
        h.finish(client, reg, environ_base=ROOM)
        if i % 3 == 0:
            r = client.post(
                "/sessions",
                json={"iin": person["iin"], "password": "Wrong-pass-1"},
                environ_base=ROOM,
            )
            assert r.status_code == 401, r.json
        h.login(client, person["iin"], environ_base=ROOM)
        clock.advance(seconds=9)
    assert clock.now - started <= dt.timedelta(minutes=5)
    assert db.accounts.count_documents({"origin": "self"}) == 30


def test_a_hundred_wrong_passwords_against_one_account_are_stopped_within_twenty(
    client, db, h, clock
):
    h.register(client, db)
    statuses = []
    for _ in range(100):
        r = client.post(
            "/sessions", json={"iin": h.MOTHER_IIN, "password": "Wrong-pass-1"}, environ_base=ROOM
        )
        statuses.append(r.status_code)
        clock.advance(seconds=1)
    assert set(statuses) == {401, 429}
    assert statuses.count(401) <= 20, statuses
    r = client.post(
        "/sessions", json={"iin": h.MOTHER_IIN, "password": h.PASSWORD}, environ_base=ROOM
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # From other addresses too: the limit is the account's.
    r = client.post(
        "/sessions",
        json={"iin": h.MOTHER_IIN, "password": h.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.99.0.1"},
    )
    assert r.status_code == 429


def test_two_hundred_sign_ins_over_two_hundred_accounts_from_one_address_are_slowed(
    client, db, h, deps, clock
):
    hashed = deps.hasher.hash(h.PASSWORD)
    iins = [make_iin(dt.date(1980, 1, 1) + dt.timedelta(days=i), "male", 100) for i in range(200)]
    db.accounts.insert_many(
        [
            store.without_missing_keys(
                _account_doc(
                    deps,
                    iin=iin,
                    email=None,
                    phone=None,
                    roles=[roles.CITIZEN],
                    organization_id=None,
                    person=None,
                    origin="self",
                    password_hash=hashed,
                    must_change=False,
                )
            )
            for iin in iins
        ]
    )
    statuses = []
    for iin in iins:
        r = client.post(
            "/sessions", json={"iin": iin, "password": "Wrong-pass-1"}, environ_base=ROOM
        )
        statuses.append(r.status_code)
        clock.advance(seconds=1)
    free = deps.settings.login_failures_per_address.free_failures
    assert statuses[:free] == [401] * free  # no single account was guessed at twice
    assert statuses[free:].count(429) >= 50, statuses[free:]
    slowed = client.post(
        "/sessions", json={"iin": iins[0], "password": h.PASSWORD}, environ_base=ROOM
    )
    assert slowed.status_code in (201, 429)
    # Another address is not slowed by this one's flood.
    other = client.post(
        "/sessions",
        json={"iin": iins[0], "password": h.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.99.0.2"},
    )
    assert other.status_code == 201


def test_recovery_by_iin_cannot_send_a_thousand_sms(client, db, h, deps, clock, caplog):
    h.register(client, db)
    before = limits_reached("password_reset", "account")
    statuses = set()
    with caplog.at_level(logging.WARNING, logger="identity.limits"):
        for i in range(1000):
            # From one address, then from many (a botnet): the account's limit holds either way.
            where = ROOM if i < 500 else {"REMOTE_ADDR": f"10.{i // 250}.{i % 250}.9"}
            r = client.post("/password-resets", json={"iin": h.MOTHER_IIN}, environ_base=where)
            statuses.add(r.status_code)
            clock.advance(seconds=2)
    sms = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "password_reset"]
    assert 1 <= len(sms) <= deps.settings.sms_per_account.lock_after
    assert statuses <= {202, 429}
    assert limits_reached("password_reset", "account") > before
    lines = [r for r in caplog.records if r.name == "identity.limits"]
    assert lines and all(h.MOTHER_PHONE not in r.getMessage() for r in lines)
    assert all(h.MOTHER_IIN not in r.getMessage() for r in lines)


def test_sign_in_codes_are_limited_per_phone_whatever_the_address(client, db, h, deps, clock):
    h.register(client, db)
    for i in range(60):
        r = client.post(
            "/otp",
            json={"iin": h.MOTHER_IIN, "phone": h.MOTHER_PHONE},
            environ_base={"REMOTE_ADDR": f"10.7.{i}.1"},
        )
        assert r.status_code in (202, 429)
        clock.advance(seconds=61)
    sms = [c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "login"]
    assert 1 <= len(sms) <= deps.settings.sms_per_phone.lock_after


def test_a_registration_cannot_be_used_to_text_any_number(client, db, h, deps, clock):
    reg = h.start(client, db, "pump@example.kz")
    assert client.post(f"/registrations/{reg}/person", json=h.FOREIGNER).status_code == 200
    statuses = []
    for i in range(20):
        r = client.put(f"/registrations/{reg}/contacts", json={"phone": f"+7701666{i:04d}"})
        statuses.append(r.status_code)
        clock.advance(seconds=61)
    sent = [
        d
        for d in db.outbox.find({"routing_key": "identity.code.requested.v1"})
        if d["body"]["data"]["purpose"] == "phone_confirmation"
    ]
    assert len(sent) == deps.settings.registration_max_sms
    assert statuses.count(200) == deps.settings.registration_max_sms
    assert set(statuses[deps.settings.registration_max_sms :]) == {429}


def test_guessing_sign_in_codes_is_stopped_per_phone_across_challenges(client, db, h, deps):
    h.register(client, db)
    free = deps.settings.code_guesses_per_target.free_failures
    statuses = []
    for i in range(3):
        # A new challenge each time, from a new address: the phone's count goes on.
        where = {"REMOTE_ADDR": f"10.8.{i}.1"}
        r = client.post("/otp", json={"iin": h.MOTHER_IIN, "phone": h.MOTHER_PHONE},
                        environ_base=where)  # fmt: skip
        challenge = r.json["challenge_id"]
        for _ in range(5):
            r = client.post(
                "/sessions/otp", json={"challenge_id": challenge, "code": "0000000"},
                environ_base=where,
            )  # fmt: skip
            statuses.append(r.status_code)
    assert statuses[:free] == [422] * free
    assert 429 in statuses[free:]


def test_guessing_is_stopped_per_registration_across_its_codes(client, db, h, deps, clock):
    reg = h.start(client, db)
    client.post(f"/registrations/{reg}/person", json={"iin": h.MOTHER_IIN})
    statuses = []
    for i in range(3):
        for _ in range(5):
            r = client.post(
                f"/registrations/{reg}/person/confirm", json={"code": "0000000"},
                environ_base={"REMOTE_ADDR": f"10.9.{i}.1"},
            )  # fmt: skip
            statuses.append(r.status_code)
        clock.advance(seconds=61)
        client.post(f"/registrations/{reg}/person/code", json={})
    free = deps.settings.code_guesses_per_target.free_failures
    assert statuses[:free] == [422] * free
    assert 429 in statuses[free:]
