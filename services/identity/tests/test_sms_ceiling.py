"""The per-address ceiling on security SMS (SMS_PER_ADDRESS), set low here to see it close."""

import dataclasses
import datetime as dt

import pytest

from edu_common.kz.iin import make_iin
from identity.domain.throttle import quota

pytestmark = pytest.mark.integration

CEILING = 5
ADDRESS = {"REMOTE_ADDR": "10.44.0.1"}


@pytest.fixture
def settings(settings):
    return dataclasses.replace(settings, sms_per_address=quota(CEILING, dt.timedelta(hours=1)))


def test_registrations_from_one_address_stop_at_the_sms_ceiling(client, db, h):
    statuses = []
    for i in range(CEILING + 3):
        reg = h.start(client, db, f"room{i}@example.kz", environ_base=ADDRESS)
        r = client.post(f"/registrations/{reg}/person", json=h.FOREIGNER, environ_base=ADDRESS)
        assert r.status_code == 200
        r = client.put(
            f"/registrations/{reg}/contacts",
            json={"phone": f"+7701777{i:04d}"},
            environ_base=ADDRESS,
        )
        statuses.append(r.status_code)
    assert statuses == [200] * CEILING + [429] * 3
    # Another address is not held back by this one.
    reg = h.start(client, db, "elsewhere@example.kz")
    client.post(f"/registrations/{reg}/person", json=h.FOREIGNER)
    r = client.put(f"/registrations/{reg}/contacts", json={"phone": "+77017779999"})
    assert r.status_code == 200 and r.json["next_step"] == "contacts_confirmation"


def test_sign_in_codes_count_against_the_address_sent_or_not(client, db, h):
    h.register(client, db)
    # The mother's (a code is sent), then strangers' IINs (nothing is sent): all count.
    iins = [h.MOTHER_IIN] + [
        make_iin(dt.date(1990, 1, 1) + dt.timedelta(days=i), "female", 50)
        for i in range(CEILING + 1)
    ]
    statuses = []
    for iin in iins:
        r = client.post("/otp", json={"iin": iin, "phone": h.MOTHER_PHONE},
                        environ_base={"REMOTE_ADDR": "10.44.0.2"})  # fmt: skip
        statuses.append((r.status_code, r.json.get("code")))
    assert statuses == [(202, None)] * CEILING + [(429, "code_limit")] * 2
    assert len([c for c in h.codes_sent(db, h.MOTHER_PHONE) if c["purpose"] == "login"]) == 1
