"""The lifecycles as pure rules: a referral's moves, deadlines and its one extension; who may
take a place."""

import datetime as dt

import pytest

from kindergarten.domain import place, referral
from kindergarten.domain.referral import Status

NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)


def test_moves_start_only_from_their_states():
    assert referral.CONFIRM.sources == (Status.OFFERED,)
    assert set(referral.DECLINE.sources) == {Status.OFFERED, Status.CONFIRMED}
    assert referral.ENROL.sources == (Status.CONFIRMED,)
    # A lapse is guarded by the state it was found in.
    assert referral.lapse_from("confirmed") == referral.Move((Status.CONFIRMED,), Status.EXPIRED)
    for closed in ("enrolled", "declined", "expired"):
        with pytest.raises(ValueError):
            referral.lapse_from(closed)


def test_each_open_stage_has_its_deadline():
    offered = {"status": "offered", "confirm_by": NOW}
    assert not referral.past_deadline(offered, NOW)
    assert referral.past_deadline(offered, NOW + dt.timedelta(microseconds=1))
    confirmed = {"status": "confirmed", "confirm_by": NOW, "enrol_by": NOW + dt.timedelta(days=5)}
    assert not referral.past_deadline(confirmed, NOW + dt.timedelta(days=1))
    closed = {"status": "enrolled", "enrol_by": NOW}
    assert not referral.past_deadline(closed, NOW + dt.timedelta(days=1))  # no deadline any more


def test_the_one_extension():
    ref = {"status": "confirmed", "extended": False, "enrol_by": NOW}
    assert referral.extension_refusal(ref, 30, 30) is None
    assert referral.extended_enrol_by(ref, 30) == NOW + dt.timedelta(days=30)
    assert referral.extension_refusal(ref, 31, 30) == referral.EXTEND_DAYS
    assert referral.extension_refusal(ref, 0, 30) == referral.EXTEND_DAYS
    assert referral.extension_refusal({**ref, "status": "offered"}, 5, 30) == "referral_state"
    assert referral.extension_refusal({**ref, "extended": True}, 5, 30) == "already_extended"


def test_who_may_take_a_place():
    spot = {"district_id": "d-1", "birth_year": 2023, "status": "vacant", "open_at": NOW}
    app = {"status": "queued", "district_id": "d-1", "birth_year": 2023, "stop_until": None}
    assert place.refusal(app, spot, NOW) is None
    assert place.refusal({**app, "status": "offered"}, spot, NOW) == place.NOT_WAITING
    assert place.refusal({**app, "birth_year": 2022}, spot, NOW) == place.NOT_FOR_CHILD
    assert place.refusal({**app, "district_id": "d-2"}, spot, NOW) == place.NOT_FOR_CHILD
    later = NOW + dt.timedelta(days=1)
    assert place.refusal({**app, "stop_until": later}, spot, NOW) == place.ON_STOP_LIST
    assert place.refusal({**app, "stop_until": later}, spot, later) is None
    assert place.is_open(spot, NOW) and not place.is_open(spot, NOW - dt.timedelta(seconds=1))
    assert not place.is_open({**spot, "status": "offered"}, NOW)
