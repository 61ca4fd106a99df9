import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edu_common.kz import IIN, IINError, check_digit, is_valid_iin, make_iin, mask_iin, parse_iin

SEED = "950423451048"  # from the seeds: a woman born 23.04.1995


def _with_check_digit(first11: str) -> str:
    digit = check_digit(first11)
    assert digit is not None
    return first11 + str(digit)


def _error_code(value) -> str:
    with pytest.raises(IINError) as caught:
        parse_iin(value)
    assert str(caught.value)  # a readable message
    return caught.value.code


def test_seed_example():
    iin = parse_iin(SEED)
    assert iin == IIN(value=SEED, birth_date=dt.date(1995, 4, 23), sex="female")
    assert is_valid_iin(SEED)
    assert check_digit(SEED[:11]) == 8


@pytest.mark.parametrize(
    "value", ["", "95042345104", "9504234510480", "95042345104a", " 950423451048"]
)
def test_format(value):
    assert _error_code(value) == "iin_format"
    assert not is_valid_iin(value)


def test_not_a_string_is_invalid():
    assert not is_valid_iin(950423451048)
    assert not is_valid_iin(None)


def test_non_ascii_digits_rejected():
    assert _error_code("٩٥٠٤٢٣٤٥١٠٤٨") == "iin_format"


@pytest.mark.parametrize("last", [d for d in "0123456789" if d != "8"])
def test_bad_checksum(last):
    assert _error_code(SEED[:11] + last) == "iin_checksum"


@pytest.mark.parametrize("date_part", ["950230", "950229", "951301", "950000", "950431"])
def test_impossible_date(date_part):
    value = _with_check_digit(date_part + "45104")
    assert _error_code(value) == "iin_date"


def test_leap_day_exists_in_2000_not_in_1900():
    assert parse_iin(_with_check_digit("000229" + "50001")).birth_date == dt.date(2000, 2, 29)
    assert _error_code(_with_check_digit("000229" + "30001")) == "iin_date"


@pytest.mark.parametrize("digit", "0789")
def test_century_digit_out_of_range(digit):
    value = _with_check_digit("950423" + digit + "5104")
    assert _error_code(value) == "iin_century"


@pytest.mark.parametrize(
    ("digit", "year", "sex"),
    [
        ("1", 1895, "male"),
        ("2", 1895, "female"),
        ("3", 1995, "male"),
        ("4", 1995, "female"),
        ("5", 2095, "male"),
        ("6", 2095, "female"),
    ],
)
def test_century_and_sex(digit, year, sex):
    iin = parse_iin(_with_check_digit("950423" + digit + "0001"))
    assert iin.birth_date == dt.date(year, 4, 23)
    assert iin.sex == sex


def _first_never_issued() -> str:
    for serial in range(10000):
        first11 = f"9504234{serial:04d}"
        if check_digit(first11) is None:
            return first11
    raise AssertionError("expected at least one never-issued serial")


def test_ten_then_ten_is_never_issued():
    first11 = _first_never_issued()
    digits = [int(c) for c in first11]
    assert sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11 == 10
    weights = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
    assert sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 == 10
    assert check_digit(first11) is None
    for last in "0123456789":
        assert _error_code(first11 + last) == "iin_checksum"


def test_ten_then_second_weights():
    # 10 with the first weights but not with the second: the second result is the check digit.
    for serial in range(10000):
        first11 = f"9504234{serial:04d}"
        digits = [int(c) for c in first11]
        if sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11 == 10:
            digit = check_digit(first11)
            if digit is not None:
                assert is_valid_iin(first11 + str(digit))
                return
    raise AssertionError("expected a serial that needs the second weights")


def test_check_digit_rejects_bad_input():
    with pytest.raises(IINError):
        check_digit("123")


def test_mask_keeps_last_four():
    assert mask_iin(SEED) == "********1048"
    assert mask_iin("123") == "***"
    assert SEED not in repr(parse_iin(SEED))
    assert SEED not in f"{parse_iin(SEED)}"


def test_make_iin_seed():
    assert make_iin(dt.date(1995, 4, 23), "female", 5104) == SEED


def test_make_iin_skips_never_issued_serials():
    first11 = _first_never_issued()
    value = make_iin(dt.date(1995, 4, 23), "female", int(first11[7:]))
    assert int(value[7:11]) > int(first11[7:])
    assert is_valid_iin(value)


def test_make_iin_rejects_bad_arguments():
    with pytest.raises(ValueError):
        make_iin(dt.date(1995, 4, 23), "f", 1)
    with pytest.raises(ValueError):
        make_iin(dt.date(1995, 4, 23), "male", 10000)
    with pytest.raises(IINError):
        make_iin(dt.date(2100, 1, 1), "male", 1)


@given(
    birth_date=st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2099, 12, 31)),
    sex=st.sampled_from(["male", "female"]),
    serial=st.integers(min_value=0, max_value=9000),
)
def test_make_iin_round_trip(birth_date, sex, serial):
    iin = parse_iin(make_iin(birth_date, sex, serial))
    assert (iin.birth_date, iin.sex) == (birth_date, sex)
