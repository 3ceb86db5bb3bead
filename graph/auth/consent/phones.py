"""Tajik phone numbers: +992 and nine digits, typed with or without spaces and dashes."""

from __future__ import annotations

import re

PHONE = re.compile(r"^\+992[0-9]{9}$")
_SEPARATORS = re.compile(r"[\s().-]")


def normalize(text: str | None) -> str | None:
    """`+992 90 123-45-67`, `992901234567` or `901234567` -> `+992901234567`; else None."""
    if not text or len(text) > 32:
        return None
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+"):
        candidate = digits
    elif digits.startswith("992") and len(digits) == 12:
        candidate = "+" + digits
    elif len(digits) == 9:
        candidate = "+992" + digits
    else:
        return None
    return candidate if PHONE.match(candidate) else None
