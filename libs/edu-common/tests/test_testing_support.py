"""The test helpers every service's tests share: a clock moved by hand, raw envelopes."""

import datetime as dt

from edu_common.accounts import ACCOUNT_CHANGED
from edu_common.envelope import Envelope
from edu_common.testing import Clock, envelope


def test_clock_stands_still_until_moved():
    start = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)
    clock = Clock(start)
    assert clock() == start == clock()
    clock.advance(days=1, minutes=5)
    assert clock() == start + dt.timedelta(days=1, minutes=5)


def test_a_raw_envelope_is_a_valid_envelope_with_any_payload():
    raw = envelope(ACCOUNT_CHANGED, {"not": "checked"})
    parsed = Envelope.from_dict(raw)
    assert parsed.routing_key == "identity.account.changed.v1"
    assert parsed.data == {"not": "checked"}
