"""Card facts derived from OBP card JSON: scheme, status and a stable id.

These functions only ever see the BIN (first six digits) or the masked PAN; the full
number is masked by the mapper before anything here is called.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, datetime

# Checked in order; the first matching prefix wins.
_SCHEME_PREFIXES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("KORTI_MILLI", re.compile(r"^9762")),  # Tajik national system; see domain-tj.md 2.4
    ("VISA", re.compile(r"^4")),
    ("MASTERCARD", re.compile(r"^(5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)")),
    ("UNIONPAY", re.compile(r"^62")),
)

# `networks` spellings, compared with case and punctuation removed.
_NETWORK_NAMES = {
    "VISA": "VISA",
    "MASTERCARD": "MASTERCARD",
    "MC": "MASTERCARD",
    "KORTIMILLI": "KORTI_MILLI",
    "UNIONPAY": "UNIONPAY",
    "CUP": "UNIONPAY",
}


def card_scheme(bin_digits: str, networks: Iterable[str] = ()) -> str:
    """Scheme from the number's prefix; the `networks` list when the prefix says nothing."""
    for scheme, pattern in _SCHEME_PREFIXES:
        if pattern.match(bin_digits):
            return scheme
    for network in networks:
        name = _NETWORK_NAMES.get(re.sub(r"[^A-Z]", "", network.upper()))
        if name:
            return name
    return "OTHER"


def card_status(
    *,
    enabled: bool | None,
    cancelled: bool | None,
    on_hot_list: bool | None,
    expires: datetime | None,
    today: date,
) -> str:
    """CANCELLED, then BLOCKED (hot list), then EXPIRED, then BLOCKED (disabled), else ACTIVE.

    Expiry is checked before `enabled` because banks disable expired cards, and EXPIRED
    says more than BLOCKED. A card is valid through the whole month it expires in.
    """
    if cancelled:
        return "CANCELLED"
    if on_hot_list:
        return "BLOCKED"
    if expires is not None and (expires.year, expires.month) < (today.year, today.month):
        return "EXPIRED"
    if enabled is False:
        return "BLOCKED"
    return "ACTIVE"


def expiry_text(expires: datetime | None) -> str | None:
    """`MM/YY`, as printed on the card."""
    return expires.strftime("%m/%y") if expires else None


def card_fingerprint(
    bank_id: str | None, account_id: str | None, pan_masked: str, expires_on: str | None
) -> str:
    """A stable external id for cards without `card_id` (the v1.3.0 card JSON has none).

    Built from masked data only, so it is safe to store and cannot be reversed to a PAN.
    """
    parts = (bank_id or "", account_id or "", pan_masked, expires_on or "")
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"card-{digest[:40]}"
