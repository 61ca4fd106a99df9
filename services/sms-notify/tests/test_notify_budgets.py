"""SMS cannot be pumped: a daily budget per account and an hourly one for the platform for every
SMS that is not a security message, and no SMS to a phone outside the allowed countries."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
import zoneinfo

import pytest
from prometheus_client import REGISTRY

from edu_common.consumer import HandlerContext, handle_once
from edu_common.envelope import Envelope
from edu_common.mongo import in_transaction
from edu_common.testing import Clock, envelope
from sms_notify import events, store
from sms_notify.domain import budgets as rules
from sms_notify.domain.budgets import Budgets
from sms_notify.domain.limits import Limits
from sms_notify.usecases import notifications, outgoing
from sms_notify.worker import notification_bindings

NOON = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.UTC)  # Monday 12:00 in Almaty
TZ = dt.timezone(dt.timedelta(hours=5))
PARAMS = {"child_first_name": "Әлихан", "child_iin_masked": "********2034", "queue_number": 7}
GERMAN = "+4915112345678"
RUSSIAN = "+79161234567"


# --- the pure rules ----------------------------------------------------------------------------
def test_security_messages_never_draw_on_the_budgets():
    assert rules.budgeted("sms", "queue") and rules.budgeted("sms", "homework")
    assert rules.budgeted("sms", "conversation") and rules.budgeted("sms", "escort")
    assert not rules.budgeted("sms", "code") and not rules.budgeted("sms", "security")
    assert rules.budgeted("sms", "code", marked=True)  # a subscription's phone confirmation
    assert not rules.budgeted("email", "queue")


@pytest.mark.parametrize(
    ("phone", "countries", "allowed"),
    [
        ("+77010000001", ("+7",), True),
        ("+77010000001", ("KZ",), True),
        (RUSSIAN, ("+7",), True),
        (RUSSIAN, ("KZ",), False),
        (GERMAN, ("+7",), False),
        (GERMAN, ("+7", "+49"), True),
        ("+99871234567", ("+7",), False),
        ("+7", ("+7",), False),
        ("not a phone", ("+7",), False),
    ],
)
def test_destinations_by_calling_code_or_region(phone, countries, allowed):
    assert rules.destination_allowed(phone, countries) is allowed


def test_countries_as_settings_name_them():
    assert rules.country(" kz ") == "KZ" and rules.country("+7") == "+7"
    for bad in ("Kazakhstan", "7", "+0", "+12345", ""):
        with pytest.raises(ValueError):
            rules.country(bad)


def test_an_accounts_day_is_local_and_the_platforms_hour_is_utc():
    tz = zoneinfo.ZoneInfo("Asia/Almaty")
    late = dt.datetime(2026, 3, 2, 18, 59, tzinfo=dt.UTC)  # 23:59 in Almaty
    after = dt.datetime(2026, 3, 2, 19, 1, tzinfo=dt.UTC)  # 00:01 on the 3rd
    assert rules.account_bucket("a", late, tz)[0] == "account|a|2026-03-02"
    assert rules.account_bucket("a", after, tz)[0] == "account|a|2026-03-03"
    key, forget = rules.platform_bucket(dt.datetime(2026, 3, 2, 7, 59, tzinfo=TZ))
    assert key == "platform|2026-03-02T02" and forget > dt.datetime(2026, 3, 3, 2, tzinfo=dt.UTC)


# --- through outgoing.enqueue ----------------------------------------------------------------
@pytest.fixture
def deps(plain_db, make_deps):
    """Small budgets: 3 SMS per account and day, 5 for the platform per hour."""
    return make_deps(
        plain_db,
        clock=Clock(NOON),
        limits=Limits(codes_per_window=50, sms_per_day=50),
        budgets=Budgets(per_account_day=3, platform_hour=5, countries=("+7",), shards=4),
    )


def enqueue(deps, *, to, account_id="acc-1", kind="queue", channel="sms", now=NOON, **kw):
    return in_transaction(
        deps.db,
        lambda s: outgoing.enqueue(
            deps,
            s,
            event_id=kw.pop("event_id", None) or str(uuid.uuid4()),
            kind=kind,
            to=to,
            channel=channel,
            language="ru",
            template=kw.pop("template", "kg_registered"),
            params=kw.pop("params", PARAMS),
            account_id=account_id,
            now=now,
            **kw,
        ),
    )


def phone(i: int) -> str:
    return f"+7701000{i:04d}"


def test_an_accounts_daily_budget(deps, plain_db, h):
    h.add_account(plain_db, "acc-1")
    statuses = [enqueue(deps, to=phone(i)).status for i in range(4)]
    assert statuses == [store.QUEUED] * 3 + [store.OVER_BUDGET]
    over = plain_db[store.MESSAGES].find_one({"status": store.OVER_BUDGET})
    assert over["reason"] == "the account's daily SMS budget is spent"
    assert "secret" not in over and "next_attempt_at" not in over
    # E-mail is not budgeted; security SMS and identity's codes never are.
    assert enqueue(deps, to="a@example.kz", channel="email").status == store.QUEUED
    assert enqueue(deps, to=phone(1), kind="security", urgent=True).status == store.QUEUED
    code = enqueue(
        deps, to=phone(2), kind="code", template="login", params={"code": store.CODE_MASK},
        urgent=True, secret={"code": "123456"},
    )  # fmt: skip
    assert code.status == store.QUEUED
    # Another account still has its own; the next local day is a new budget.
    h.add_account(plain_db, "acc-2")
    assert enqueue(deps, to=phone(9), account_id="acc-2").status == store.QUEUED
    tomorrow = NOON + dt.timedelta(days=1)
    assert enqueue(deps, to=phone(5), now=tomorrow).status == store.QUEUED


def test_the_platforms_hourly_budget(deps, plain_db, h):
    for i in range(6):
        h.add_account(plain_db, f"acc-{i}")
    statuses = [enqueue(deps, to=phone(i), account_id=f"acc-{i}").status for i in range(6)]
    assert statuses == [store.QUEUED] * 5 + [store.OVER_BUDGET]
    over = plain_db[store.MESSAGES].find_one({"status": store.OVER_BUDGET})
    assert over["reason"] == "the hourly SMS budget is spent"
    # Messages without an account draw on the platform's too; security ones never do.
    assert enqueue(deps, to=phone(7), account_id=None).status == store.OVER_BUDGET
    assert enqueue(deps, to=phone(7), kind="security", urgent=True).status == store.QUEUED
    next_hour = NOON + dt.timedelta(hours=1)
    assert enqueue(deps, to=phone(8), account_id="acc-5", now=next_hour).status == store.QUEUED


def test_reaching_a_budget_is_counted_and_logged_once_without_the_number(deps, plain_db, h, caplog):
    h.add_account(plain_db, "acc-1")

    def reached(budget):
        return (
            REGISTRY.get_sample_value("notify_sms_budget_reached_total", {"budget": budget}) or 0.0
        )

    before = reached("account")
    caplog.set_level(logging.INFO, logger="sms_notify.usecases.outgoing")
    for i in range(6):
        enqueue(deps, to=phone(i))
    assert reached("account") == before + 1
    lines = [r for r in caplog.records if r.getMessage() == "SMS budget reached"]
    assert len(lines) == 1 and lines[0].budget == "account" and lines[0].account_id == "acc-1"
    assert all(phone(i) not in r.getMessage() + str(r.__dict__) for r in lines for i in range(6))


def test_an_unpaid_message_gives_its_budget_back(deps, plain_db, h):
    h.add_account(plain_db, "acc-1")
    for i in range(5):
        result = enqueue(deps, to=phone(i), kind="homework", charge=lambda _m, _s: False)
        assert result.status == store.NO_BALANCE
    assert enqueue(deps, to=phone(6)).status == store.QUEUED
    used = sum(d.get("n", 0) for d in plain_db[store.SMS_BUDGETS].find({"bucket": {"$exists": 1}}))
    assert used == 2  # the account's one and the platform's one


def test_concurrent_sends_for_one_account_keep_its_budget(deps, plain_db, h):
    h.add_account(plain_db, "acc-1")
    results: list[str] = []
    errors: list[Exception] = []

    def send(i: int) -> None:
        try:
            results.append(enqueue(deps, to=phone(i)).status)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(results).count(store.QUEUED) == 3
    assert results.count(store.OVER_BUDGET) == 5


@pytest.mark.parametrize("kind", ["queue", "code", "security"])
def test_no_sms_of_any_kind_to_a_phone_outside_the_allowed_countries(deps, plain_db, h, kind):
    h.add_account(plain_db, "acc-1")
    extra = {"urgent": True} if kind != "queue" else {}
    result = enqueue(deps, to=GERMAN, kind=kind, **extra)
    assert result.status == store.REFUSED_DESTINATION
    doc = store.find(plain_db, result.id)
    assert doc["reason"] == "the phone is outside the allowed countries"
    # Refused ones draw on no budget.
    assert plain_db[store.SMS_BUDGETS].count_documents({}) == 0


def test_only_kazakhstans_numbers_when_the_setting_says_kz(plain_db, make_deps, h):
    deps = make_deps(plain_db, clock=Clock(NOON), budgets=Budgets(countries=("KZ",)))
    h.add_account(plain_db, "acc-1")
    assert enqueue(deps, to=RUSSIAN).status == store.REFUSED_DESTINATION
    assert enqueue(deps, to="+77010000001").status == store.QUEUED


# --- from events ---------------------------------------------------------------------------
def handle(deps, env: dict) -> None:
    binding = next(b for b in notification_bindings(deps) if b.name == "notifications")
    assert handle_once(deps.db, "sms-notify.notifications", binding, Envelope.from_dict(env))


def test_kindergarten_notices_over_budget_are_recorded_not_sent(deps, plain_db, h):
    h.add_account(plain_db, "acc-1", phone="+77010000001")
    for n in range(4):
        handle(
            deps,
            envelope(
                events.KG_QUEUE_CHANGED,
                {
                    "application_id": "app-1", "parent_account_id": "acc-1",
                    "child_iin_masked": "********2034", "child_first_name": "Әлихан",
                    "district_id": "d-1", "queue_number": 10 - n, "previous_queue_number": 20,
                },
            ),
        )  # fmt: skip
    statuses = [m["status"] for m in plain_db[store.MESSAGES].find().sort("created_at", 1)]
    assert statuses.count(store.OVER_BUDGET) == 1 and len(statuses) == 4


def test_an_escorts_sms_draws_on_the_parents_budget_and_a_foreign_one_is_refused(deps, plain_db, h):
    h.add_account(plain_db, "acc-1", phone="+77010000001")

    def escort(phone_number: str) -> dict:
        return envelope(
            events.KG_ESCORT_ADDED,
            {
                "child_iin_masked": "********2034", "child_first_name": "Әлихан",
                "kindergarten_id": "kg-1", "kindergarten_name": "Балапан",
                "parent_account_id": "acc-1", "escort_iin_masked": "********1111",
                "escort_full_name": "Бабушка", "escort_phone": phone_number,
            },
        )  # fmt: skip

    handle(deps, escort(GERMAN))
    [refused] = plain_db[store.MESSAGES].find({"to": GERMAN})
    assert refused["status"] == store.REFUSED_DESTINATION
    for i in range(4):
        handle(deps, escort(phone(100 + i)))
    sent = list(plain_db[store.MESSAGES].find({"kind": "escort", "to": {"$ne": GERMAN}}))
    # Three went out (no channel here: the first attempt fails them), the fourth was over.
    assert sorted(m["status"] for m in sent) == [store.FAILED] * 3 + [store.OVER_BUDGET]
    assert {m["budget_account_id"] for m in sent} == {"acc-1"}


def test_the_notice_path_passes_the_payer_on(deps):
    # The resolver says whose budget an SMS to someone else's phone draws on.
    data = {"parent_account_id": "acc-1", "escort_phone": "+77010000009"}
    ctx = HandlerContext(deps.db, None)
    [r] = notifications.escort(deps, ctx, data, False)
    assert r.account_id is None and r.budget_account_id == "acc-1"
