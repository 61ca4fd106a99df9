"""How many SMS a text costs: GSM-7 (160 per SMS, 153 per part of a long one) or UCS-2 (70/67).

Pure. A text with any character outside the GSM 03.38 alphabet (every Kazakh or Russian
letter) goes as UCS-2. In GSM-7 the extension table's characters (``{ } [ ] ~ \\ | ^ €`` and
form feed) take two septets (escape + char); in UCS-2 a character beyond the BMP (an emoji)
takes two code units. Neither pair is ever split between two parts, as phones reassemble
them: packing is done character by character, not by dividing a length.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC)
_EXT = frozenset(GSM7_EXTENSION)

GSM7 = "GSM-7"
UCS2 = "UCS-2"
# (units in a single SMS, units per part of a concatenated one)
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # SMS parts the text is sent as (at least 1)


def is_gsm7(text: str) -> bool:
    return all(ch in _BASIC or ch in _EXT for ch in text)


def _width(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in _EXT else 1
    return 2 if ord(ch) > 0xFFFF else 1


def count(text: str) -> Segments:
    encoding = GSM7 if is_gsm7(text) else UCS2
    single, part = LIMITS[encoding]
    widths = [_width(ch, encoding) for ch in text]
    units = sum(widths)
    if units <= single:
        return Segments(encoding, units, 1)
    parts, used = 1, 0
    for w in widths:
        if used + w > part:  # the character (or its pair) starts the next part
            parts += 1
            used = 0
        used += w
    return Segments(encoding, units, parts)
