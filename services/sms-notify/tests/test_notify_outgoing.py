"""outgoing.enqueue: the rules every message passes before it may leave."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from edu_common.mongo import in_transaction
from sms_notify import store, templates
from sms_notify.domain.limits import Limits
from sms_notify.usecases import delivery, outgoing

NOON = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # 12:00 in Almaty
PARENT = "acc-parent"
PARENT_PHONE = "+77010000001"
PARAMS = {
    "child_first_name": "Әлихан",
    "child_iin_masked": "********2034",
    "queue_number": 7,
}


@pytest.fixture
def deps(plain_db, make_deps):
    """The service's deps on a plain database, with a daily cap of three SMS per phone."""
    return make_deps(plain_db, limits=Limits(codes_per_window=5, sms_per_day=3))


def enqueue(
    deps,
    *,
    now=NOON,
    event_id=None,
    kind="queue",
    to=PARENT_PHONE,
    channel="sms",
    account_id=PARENT,
    charge=None,
    template="kg_registered",
    params=PARAMS,
    **kw,
):
    return in_transaction(
        deps.db,
        lambda s: outgoing.enqueue(
            deps,
            s,
            event_id=event_id or str(uuid.uuid4()),
            kind=kind,
            to=to,
            channel=channel,
            language="ru",
            template=template,
            params=params,
            account_id=account_id,
            charge=charge,
            now=now,
            **kw,
        ),
    )


def test_a_message_is_rendered_counted_and_queued_once_per_event(deps, plain_db, h):
    h.add_account(plain_db)
    first = enqueue(deps, event_id="ev-1")
    assert first.status == store.QUEUED and first.segments == 2 and first.language == "ru"
    doc = store.find(plain_db, first.id)
    assert doc["body"].startswith("Әлихан (********2034) поставлен(а) в очередь")
    assert doc["encoding"] == "UCS-2"
    assert enqueue(deps, event_id="ev-1") is None  # a redelivered event: nothing new
    assert enqueue(deps, event_id="ev-1", channel="email", to="a@example.kz").status == "queued"
    assert plain_db[store.MESSAGES].count_documents({"event_id": "ev-1"}) == 2


@pytest.mark.parametrize(
    ("channel", "to", "status"),
    [
        ("sms", "87010000001", store.INVALID_RECIPIENT),  # not E.164
        ("sms", "+7701", store.INVALID_RECIPIENT),
        ("email", "not-an-address", store.INVALID_RECIPIENT),
        ("sms", "", store.NO_RECIPIENT),
    ],
)
def test_a_bad_recipient_is_recorded_and_never_sent(deps, plain_db, h, channel, to, status):
    h.add_account(plain_db)
    result = enqueue(deps, channel=channel, to=to)
    assert result.status == status
    doc = store.find(plain_db, result.id)
    assert doc["reason"] and "next_attempt_at" not in doc
    sms = h.FakeSms()
    assert delivery.sweep(plain_db, {"sms": sms, "email": sms}, clock=h.Clock(NOON)) == 0


def test_a_template_missing_everywhere_is_an_error_not_a_silent_loss(deps, plain_db):
    with pytest.raises(templates.TemplateError):
        enqueue(deps, template="no_such_template")
    assert plain_db[store.MESSAGES].count_documents({}) == 0


def test_muted_kinds_and_withdrawn_consent_suppress_all_but_codes_and_security(deps, plain_db, h):
    h.add_account(plain_db)
    plain_db[store.PREFERENCES].insert_one({"_id": PARENT, "kinds": {"queue": False}})
    assert enqueue(deps).status == store.SUPPRESSED
    assert enqueue(deps, kind="referral").status == store.QUEUED
    h.add_account(plain_db, notifications_consent=False)
    assert enqueue(deps, kind="referral").status == store.SUPPRESSED
    security = enqueue(deps, kind="security", template="password_changed", params={})
    assert security.status == store.QUEUED


def test_quiet_hours_hold_ordinary_messages_until_morning_and_the_sweep_releases_them(
    deps, plain_db, h
):
    h.add_account(plain_db)
    night = dt.datetime(2026, 3, 2, 18, 30, tzinfo=dt.UTC)  # 23:30 in Almaty
    held = enqueue(deps, now=night)
    urgent = enqueue(
        deps,
        now=night,
        kind="security",
        template="account_locked",
        params={"locked_until": "03.03.2026 00:00"},
    )
    assert (held.status, urgent.status) == (store.HELD, store.QUEUED)
    morning = dt.datetime(2026, 3, 3, 3, 0, tzinfo=dt.UTC)  # 08:00 in Almaty
    assert store.find(plain_db, held.id)["release_at"] == morning
    sms = h.FakeSms()
    clock = h.Clock(night)
    assert delivery.sweep(plain_db, {"sms": sms}, clock=clock) == 1  # only the urgent one
    clock.now = morning
    assert delivery.sweep(plain_db, {"sms": sms}, clock=clock) == 1
    assert store.find(plain_db, held.id)["status"] == store.SENT


def test_own_quiet_hours_or_none(deps, plain_db, h):
    h.add_account(plain_db)
    plain_db[store.PREFERENCES].insert_one({"_id": PARENT, "quiet_hours": {"enabled": False}})
    night = dt.datetime(2026, 3, 2, 18, 30, tzinfo=dt.UTC)
    assert enqueue(deps, now=night).status == store.QUEUED


def test_at_most_five_codes_per_phone_in_ten_minutes(deps):
    def code(now):
        return enqueue(
            deps,
            now=now,
            kind="code",
            template="login",
            params={"code": store.CODE_MASK, "minutes": 5, "valid_until": "-"},
        )

    results = [code(NOON + dt.timedelta(minutes=i)) for i in range(6)]
    assert [r.status for r in results] == [store.QUEUED] * 5 + [store.REJECTED_LIMIT]
    # Ten minutes after the first, a slot is free again.
    assert code(NOON + dt.timedelta(minutes=10, seconds=1)).status == store.QUEUED


def test_a_daily_cap_for_other_sms_but_not_for_security(deps):
    statuses = [enqueue(deps, account_id=None).status for _ in range(4)]
    assert statuses == [store.QUEUED] * 3 + [store.REJECTED_LIMIT]
    security = enqueue(
        deps, account_id=None, kind="security", template="password_changed", params={}
    )
    assert security.status == store.QUEUED


def test_a_charge_that_cannot_be_paid_stores_the_message_unsent(deps, plain_db):
    asked = []

    def charge(message_id, segments):
        asked.append((message_id, segments))
        return len(asked) == 1

    paid = enqueue(deps, account_id=None, charge=charge)
    unpaid = enqueue(deps, account_id=None, charge=charge)
    assert (paid.status, unpaid.status) == (store.QUEUED, store.NO_BALANCE)
    assert asked[0] == (paid.id, 2)
    assert store.find(plain_db, paid.id)["charged_segments"] == 2
    # Not charged when the limit already refused it, nor for urgent kinds.
    enqueue(
        deps,
        account_id=None,
        kind="security",
        template="password_changed",
        params={},
        charge=charge,
    )
    assert len(asked) == 2


def test_a_redelivered_paid_message_is_not_charged_twice(deps):
    asked = []

    def charge(message_id, segments):
        asked.append(message_id)
        return True

    assert enqueue(deps, event_id="ev-paid", account_id=None, charge=charge).status == "queued"
    assert enqueue(deps, event_id="ev-paid", account_id=None, charge=charge) is None
    assert len(asked) == 1
