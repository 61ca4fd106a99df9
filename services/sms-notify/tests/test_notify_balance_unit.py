"""The balance's pure rules and the payment adapter's own rules (names, signatures)."""

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


def test_payment_adapters_are_the_http_contract_under_two_names():
    for name in ("dev", "http"):
        adapter = payments.adapter_named(name, base_url="http://127.0.0.1:1/", secret="s")
        assert isinstance(adapter, payments.HttpPayments) and adapter.name == name
        assert adapter.base_url == "http://127.0.0.1:1"
    with pytest.raises(ValueError, match="PAYMENT_ADAPTER"):
        payments.adapter_named("instant", base_url="http://x", secret="s")


def test_signatures_are_hmac_sha256_of_the_raw_body():
    body = b'{"reference": "t-1", "status": "paid"}'
    sig = payments.signature("secret", body)
    assert sig.startswith("sha256=") and len(sig) == len("sha256=") + 64
    assert payments.signed_by("secret", body, sig)
    assert not payments.signed_by("other", body, sig)
    assert not payments.signed_by("secret", body + b" ", sig)
    assert not payments.signed_by("secret", body, "")
    assert not payments.signed_by("secret", body, sig.upper())


def test_an_unreachable_provider_is_unavailable(unused_port):
    adapter = payments.adapter_named(
        "http", base_url=f"http://127.0.0.1:{unused_port}", secret="s", timeout=2
    )
    with pytest.raises(payments.PaymentUnavailable):
        adapter.create(
            reference="t-1",
            amount=500,
            currency="KZT",
            description="top-up",
            callback_url="http://127.0.0.1:1/cb",
            return_url=None,
        )
