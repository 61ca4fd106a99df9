"""The development population file: what the generator makes, and fit for the tests that use it."""

import collections
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from edu_common.kz import parse_iin

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "dev" / "population.json"
REFERENCE = dt.date(2026, 9, 1)
E164_KZ = re.compile(r"\+77\d{9}")


def _age(person) -> int:
    born = dt.date.fromisoformat(person["birth_date"])
    return REFERENCE.year - born.year - ((REFERENCE.month, REFERENCE.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def people():
    return json.loads(FILE.read_text(encoding="utf-8"))["people"]


@pytest.fixture(scope="module")
def by_iin(people):
    return {p["iin"]: p for p in people}


def test_file_is_what_the_generator_makes():
    made = subprocess.run(
        [sys.executable, "-m", "dev.population"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    assert made == FILE.read_bytes(), "regenerate: python -m dev.population > dev/population.json"


def test_header_and_order(people):
    data = json.loads(FILE.read_text(encoding="utf-8"))
    assert data["generated_for"] == "2026-09-01"
    iins = [p["iin"] for p in people]
    assert iins == sorted(iins)
    assert len(set(iins)) == len(iins)


def test_counts(people):
    ages = [_age(p) for p in people]
    assert sum(a >= 16 for a in ages) >= 300
    assert sum(16 <= a <= 17 for a in ages) >= 20
    assert sum(12 <= a <= 15 and bool(p["phones"]) for a, p in zip(ages, people, strict=True)) >= 30
    under_6 = [p for a, p in zip(ages, people, strict=True) if a < 6]
    assert len(under_6) >= 300
    assert all(1 <= len(p["parents"]) <= 2 for p in under_6)


def test_every_iin_matches_birth_date_and_sex(people):
    for person in people:
        iin = parse_iin(person["iin"])
        assert iin.birth_date.isoformat() == person["birth_date"], person["iin"]
        assert iin.sex == person["sex"], person["iin"]


def test_fields(people):
    keys = {
        "iin", "surname", "name", "patronymic", "birth_date", "sex", "citizenship",
        "registered_address", "actual_address", "document", "phones", "parents",
    }  # fmt: skip
    citizenships = collections.Counter(p["citizenship"] for p in people)
    assert citizenships.most_common(1)[0][0] == "KZ"
    assert len(citizenships) > 1
    for person in people:
        assert set(person) == keys
        assert person["surname"] and person["name"] and person["patronymic"]
        assert person["sex"] in ("male", "female")
        assert set(person["document"]) == {"type", "number", "issued_at", "issuer"}
        issued = dt.date.fromisoformat(person["document"]["issued_at"])
        assert dt.date.fromisoformat(person["birth_date"]) <= issued < REFERENCE
        expected = {"birth_certificate"} if _age(person) < 16 else {"id_card", "passport"}
        assert person["document"]["type"] in expected
        assert all(E164_KZ.fullmatch(phone) for phone in person["phones"])
        if _age(person) < 12:
            assert person["phones"] == []
        address = person["registered_address"]
        assert address.startswith(("г. Астана", "Акмолинская область")), address


def test_gender_forms(people):
    for person in people:
        patronymic = person["patronymic"]
        if person["sex"] == "male":
            assert patronymic.endswith(("ович", "евич", "ұлы")), patronymic
        else:
            assert patronymic.endswith(("овна", "евна", "қызы")), patronymic
        if person["surname"].endswith(("ов", "ев", "ёв", "ин", "ский")):
            assert person["sex"] == "male", person["surname"]
    forms = {p["patronymic"][-3:] for p in people}
    assert {"ұлы", "ызы", "вич", "вна"} <= forms


def test_phones_are_unique(people):
    phones = [phone for p in people for phone in p["phones"]]
    assert len(phones) == len(set(phones))


def test_parents_exist_and_are_adults(people, by_iin):
    for person in people:
        if _age(person) >= 18:
            assert person["parents"] == []
            continue
        assert person["parents"], person["iin"]
        for parent_iin in person["parents"]:
            parent = by_iin[parent_iin]
            assert _age(parent) >= 18
            assert parent["birth_date"] < person["birth_date"]


def test_families_with_twins_and_several_children(people):
    births = collections.Counter(
        (tuple(p["parents"]), p["birth_date"]) for p in people if p["parents"]
    )
    assert sum(count >= 2 for count in births.values()) >= 3
    children = collections.Counter(tuple(p["parents"]) for p in people if p["parents"])
    assert sum(count >= 3 for count in children.values()) >= 3


def test_fixed_people(by_iin):
    woman, man, teen = by_iin["950423451048"], by_iin["880714327312"], by_iin["100315544107"]
    assert (woman["sex"], _age(woman), woman["phones"]) == ("female", 31, ["+77010000001"])
    assert (man["sex"], _age(man), man["phones"]) == ("male", 38, ["+77010000002"])
    assert (_age(teen), teen["phones"], teen["parents"]) == (16, ["+77010000003"], [man["iin"]])
    twins = [p for p in by_iin.values() if man["iin"] in p["parents"] and _age(p) < 6]
    assert len(twins) == 2
    assert twins[0]["birth_date"] == twins[1]["birth_date"]
    assert {t["iin"] for t in twins} == {"230517512034", "230517612040"}
    assert all(t["parents"] == [woman["iin"], man["iin"]] for t in twins)
