"""Kazakhstan-specific rules."""

from edu_common.kz.iin import (
    IIN,
    IINError,
    check_digit,
    is_valid_iin,
    make_iin,
    mask_iin,
    parse_iin,
)

__all__ = [
    "IIN",
    "IINError",
    "check_digit",
    "is_valid_iin",
    "make_iin",
    "mask_iin",
    "parse_iin",
]
