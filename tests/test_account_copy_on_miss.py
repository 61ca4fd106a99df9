"""Every service knows a citizen at once (issue 10, §8): right after signing up and in, a person
is known to kindergarten and sms-notify although no account.changed event has reached them, as
their copy is filled from identity on the first miss (docs/decisions/0016-account-copy-on-miss.md).

Real processes: identity, kindergarten and sms-notify web apps (gunicorn), each with its own
database, and no worker anywhere, so no event ever arrives: every copy comes from the fill."""

from __future__ import annotations

import uuid

import pytest

from edu_common import accounts
from tests.platform_processes import (
    POPULATION,
    Http,
    adults,
    base_env,
    identity_env,
    sign_in,
    sign_up,
    start_web,
    wait_until,
)

pytestmark = pytest.mark.integration
PASSWORD = "Qwerty-2025-ok"
PEOPLE = 50


@pytest.fixture(scope="module")
def platform(mongo_url, tmp_path_factory):
    base = tmp_path_factory.mktemp("copy-on-miss")
    identity = start_web("identity", identity_env(base, mongo_url), base / "identity.log")
    procs = [identity]
    try:
        wait_until(identity.healthy, message="identity")
        to_identity = {
            "IDENTITY_URL": identity.url,
            "IDENTITY_JWKS_URL": f"{identity.url}/.well-known/jwks.json",
            "POPULATION_REGISTRY_URL": str(POPULATION),
        }
        kindergarten = start_web(
            "kindergarten",
            base_env(base, mongo_url, "kindergarten", **to_identity),
            base / "kindergarten.log",
        )
        notify = start_web(
            "sms-notify",
            base_env(base, mongo_url, "sms-notify", **to_identity),
            base / "sms-notify.log",
        )
        procs += [kindergarten, notify]
        for p in (kindergarten, notify):
            wait_until(p.healthy, message=p.argv[-1])
        yield identity, kindergarten, notify
    finally:
        for p in procs:
            p.stop()


def _db(mongo_client, proc):
    return mongo_client[proc.env["MONGO_DATABASE"]]


def test_fifty_sign_ups_are_known_to_both_services_at_once(platform, mongo_client):
    identity, kindergarten, notify = platform
    identity_db = _db(mongo_client, identity)
    http = Http()
    failures = []
    people = adults(PEOPLE, skip={"880714327312"})
    for person in people:
        account_id = sign_up(http, identity.url, identity_db, person, PASSWORD)
        bearer = {"Authorization": f"Bearer {sign_in(http, identity.url, person['iin'], PASSWORD)}"}
        # At once, before anything could have been copied by an event (none is consumed here).
        kg = http.get(f"{kindergarten.url}/me/escorted-children", headers=bearer)
        sms = http.get(f"{notify.url}/me/preferences", headers=bearer)
        for name, r in (("kindergarten", kg), ("sms-notify", sms)):
            if r.status_code != 200:
                failures.append((name, account_id, r.status_code, r.text[:200]))
    assert failures == []
    # Each service now holds its own copy: the person's full state, as account.changed has it.
    for proc in (kindergarten, notify):
        db = _db(mongo_client, proc)
        assert db[accounts.ACCOUNTS].count_documents({}) == PEOPLE
        copy = db[accounts.ACCOUNTS].find_one({"iin": people[0]["iin"]})
        assert copy["roles"] == ["citizen"] and copy["revision"] >= 1
        assert copy["phone"] == people[0]["phones"][0]
        # Proven at registration (the IIN's SMS code): the copy says so, as the event would.
        assert copy["verified"] is True


def test_identity_answers_only_for_the_tokens_own_account(platform, mongo_client):
    identity, _kindergarten, _notify = platform
    identity_db = _db(mongo_client, identity)
    http = Http()
    me, other = adults(2, skip={"880714327312", *(p["iin"] for p in adults(PEOPLE))})
    my_id = sign_up(http, identity.url, identity_db, me, PASSWORD)
    other_id = sign_up(http, identity.url, identity_db, other, PASSWORD)
    bearer = {"Authorization": f"Bearer {sign_in(http, identity.url, me['iin'], PASSWORD)}"}
    mine = http.get(f"{identity.url}/internal/accounts/{my_id}", headers=bearer)
    assert mine.status_code == 200, mine.text
    state = mine.json()
    assert state["account_id"] == my_id and state["iin"] == me["iin"]
    # The same state account.changed carries (its newest event in identity's outbox).
    [event] = [
        d["body"]["data"]
        for d in identity_db.outbox.find({"routing_key": "identity.account.changed.v1"})
        if d["body"]["data"]["account_id"] == my_id
    ][-1:]
    assert {k: state[k] for k in event} == event
    theirs = http.get(f"{identity.url}/internal/accounts/{other_id}", headers=bearer)
    assert theirs.status_code == 403 and theirs.json()["code"] == "not_your_account"
    assert theirs.headers["Content-Type"].startswith("application/problem+json")
    nobody = http.get(f"{identity.url}/internal/accounts/{uuid.uuid4()}", headers=bearer)
    assert nobody.status_code == 403
    anonymous = http.get(f"{identity.url}/internal/accounts/{my_id}")
    assert anonymous.status_code == 401
