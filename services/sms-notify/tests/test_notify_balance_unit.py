"""The balance's pure rules and the development payment adapter."""

from __future__ import annotations

import datetime as dt

import pytest

from sms_notify.adapters import payments
from sms_notify.domain import balance as rules

NOW = dt.datetime(2026, 11, 18, tzinfo=dt.UTC)


def test_cost_is_price_times_segments():
    assert rules.cost(1, 10) == 10
    assert rules.cost(3, 12) == 36
    assert rules.cost(2, 0) == 0
    with pytest.raises(ValueError):
        rules.cost(0, 10)
    with pytest.raises(ValueError):
        rules.cost(1, -1)


def test_can_pay_only_all_of_it():
    assert rules.can_pay(10, 10)
    assert not rules.can_pay(9, 10)


def test_top_up_bounds():
    assert rules.check_top_up(100, 100, 50_000) == 100
    with pytest.raises(rules.TopUpRejected) as small:
        rules.check_top_up(99, 100, 50_000)
    assert small.value.code == "amount_too_small"
    with pytest.raises(rules.TopUpRejected) as large:
        rules.check_top_up(50_001, 100, 50_000)
    assert large.value.code == "amount_too_large"


def test_ledger_entries_never_go_below_zero_and_have_the_right_sign():
    rules.LedgerEntry("a", rules.TOP_UP, 500, 500, NOW, "t1")
    rules.LedgerEntry("a", rules.CHARGE, -10, 490, NOW, "m1", 1)
    with pytest.raises(ValueError):
        rules.LedgerEntry("a", rules.CHARGE, -10, -5, NOW, "m2", 1)
    with pytest.raises(ValueError):
        rules.LedgerEntry("a", rules.CHARGE, 10, 20, NOW, "m3", 1)
    with pytest.raises(ValueError):
        rules.LedgerEntry("a", rules.TOP_UP, -10, 20, NOW, "t2")


def test_dev_payments_approve_at_once_with_a_stable_id():
    dev = payments.adapter_named("dev")
    first = dev.pay(account_id="a", amount=1000, currency="KZT", key="k1")
    again = dev.pay(account_id="a", amount=1000, currency="KZT", key="k1")
    assert first.status == payments.APPROVED
    assert first.payment_id == again.payment_id
    assert dev.pay(account_id="a", amount=1013, currency="KZT", key="k2").status == "declined"
    with pytest.raises(ValueError):
        payments.adapter_named("nope")
