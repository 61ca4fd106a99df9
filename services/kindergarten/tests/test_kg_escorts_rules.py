"""The escort rules of seed 003, each at its edge, without I/O."""

import dataclasses
import datetime as dt

import pytest

from edu_common.kz import make_iin
from kindergarten.domain import escorts as e

TODAY = dt.date(2026, 11, 21)
CHILD = make_iin(dt.date(2022, 3, 1), "female", 1)
ADULT = make_iin(dt.date(1990, 5, 5), "male", 1)

BASE = e.Candidate(
    iin=ADULT,
    phone="+77010000009",
    full_name=None,
    child_iin=CHILD,
    today=TODAY,
    registry_full_name="Сейтов Ерлан Маратович",
    registry_phones=("+77010000009",),
    is_applying_parent=False,
    is_staff=False,
    child_escort_count=1,
    escorted_children_count=0,
)
LIMITS = e.Limits()


def refusal(**changes):
    found = e.refusal_for(dataclasses.replace(BASE, **changes), LIMITS)
    return found.code if found else None


def test_an_adult_known_to_the_registry_may_escort():
    assert refusal() is None


def test_sixteenth_birthday_today_is_old_enough_and_yesterday_not():
    sixteen_today = make_iin(dt.date(2010, 11, 21), "female", 1)
    sixteen_tomorrow = make_iin(dt.date(2010, 11, 22), "female", 1)
    assert refusal(iin=sixteen_today) is None
    assert refusal(iin=sixteen_tomorrow) == e.TOO_YOUNG


def test_born_on_29_february_comes_of_age_on_1_march():
    leap = dt.date(2008, 2, 29)
    assert e.age_on(leap, dt.date(2024, 2, 28)) == 15
    assert e.age_on(leap, dt.date(2024, 2, 29)) == 16
    assert e.age_on(leap, dt.date(2025, 2, 28)) == 16  # 17th birthday not yet
    assert e.age_on(dt.date(2008, 2, 29), dt.date(2025, 3, 1)) == 17


def test_the_sixth_escort_is_refused_the_fifth_is_not():
    assert refusal(child_escort_count=4) is None
    assert refusal(child_escort_count=5) == e.CHILD_LIMIT


def test_the_sixth_child_is_refused_the_fifth_is_not():
    assert refusal(escorted_children_count=4) is None
    assert refusal(escorted_children_count=5) == e.ESCORT_LIMIT


def test_staff_are_refused_unless_they_applied_for_this_child():
    assert refusal(is_staff=True) == e.IS_STAFF
    assert refusal(is_staff=True, is_applying_parent=True) is None


def test_registry_must_know_the_person_and_the_phone():
    assert refusal(registry_full_name=None) == e.NOT_IN_REGISTRY
    assert refusal(phone="+77019999999") == e.PHONE_MISMATCH
    assert refusal(registry_phones=()) == e.PHONE_MISMATCH
    assert refusal(phone="8 701 000 00 09") is None  # the same number, written locally


def test_a_given_name_must_match_the_registry_ignoring_case_and_spaces():
    assert refusal(full_name="  сейтов  ерлан маратович ") is None
    assert refusal(full_name="Сейтов Ерлан") == e.NAME_MISMATCH


def test_invalid_iin_and_the_child_itself():
    assert refusal(iin="123456789012") == e.INVALID_IIN
    assert refusal(iin=CHILD) == e.IS_CHILD


@pytest.mark.parametrize("limit", [1, 3])
def test_limits_are_settings(limit):
    limits = e.Limits(escorts_per_child=limit, children_per_escort=limit, min_age=18)
    c = dataclasses.replace(BASE, child_escort_count=limit)
    assert e.refusal_for(c, limits).code == e.CHILD_LIMIT
    seventeen = make_iin(dt.date(2009, 1, 1), "male", 1)
    c = dataclasses.replace(BASE, iin=seventeen)
    assert e.refusal_for(c, limits).code == e.TOO_YOUNG
