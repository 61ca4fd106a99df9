"""SMS segments at the edges: GSM-7 160/153 (extension characters count double), UCS-2 70/67."""

from __future__ import annotations

import pytest

from sms_notify.domain.segments import GSM7, UCS2, count


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", GSM7, 0, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        ("€" * 80, GSM7, 160, 1),  # each extension character takes two septets
        ("a" * 159 + "{", GSM7, 161, 2),
        ("я" * 70, UCS2, 70, 1),
        ("я" * 71, UCS2, 71, 2),
        ("қ" * 134, UCS2, 134, 2),
        ("қ" * 135, UCS2, 135, 3),
        ("a" * 69 + "ә", UCS2, 70, 1),  # one Kazakh letter makes the whole text UCS-2
        ("😀" * 35, UCS2, 70, 1),  # beyond the BMP: two code units each
    ],
)
def test_counts_at_the_edges(text, encoding, units, parts):
    got = count(text)
    assert (got.encoding, got.units, got.count) == (encoding, units, parts)


def test_an_escape_pair_is_never_split_between_parts():
    # 152 plain septets then "€": 154 would not fit the first 153-septet part, so it moves.
    text = "a" * 152 + "€" + "a" * 10
    assert count(text).units == 164
    assert count(text).count == 2
    text = "a" * 152 + "€" + "a" * 152  # 152 | 2+151 | 1 -> three parts, not two
    assert count(text).count == 3


def test_a_surrogate_pair_is_never_split_between_parts():
    text = "я" * 66 + "😀" + "я" * 66  # 66 | 2+65 | 1
    assert count(text).count == 3
