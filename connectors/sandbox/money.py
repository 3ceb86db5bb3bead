"""Minor-unit arithmetic, decimal strings and FX rates for the sandbox.

The sandbox stands in for a remote bank, so it keeps its own small copy of these rules
instead of importing the ledger's.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise

from connectors.sandbox.catalog import BANK_BUYS, BANK_SELLS, CURRENCY_EXPONENTS, NBT_RATES

_RATE_PLACES = Decimal("0.0001")


def format_minor(minor: int, currency: str) -> str:
    """`-12050, "TJS"` -> `"-120.50"`: always the currency's decimals, never `-0.00`."""
    exp = CURRENCY_EXPONENTS[currency]
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(exp + 1, "0")
    return f"{sign}{digits[:-exp]}.{digits[-exp:]}" if exp else sign + digits


def convert(foreign_minor: int, foreign: str, rate: Decimal, currency: str) -> int:
    """`foreign x rate` in `currency`'s minor units, rounded half-even (the FX rule)."""
    exp = CURRENCY_EXPONENTS[currency]
    value = Decimal(foreign_minor).scaleb(-CURRENCY_EXPONENTS[foreign]) * rate
    return int(value.quantize(Decimal(1).scaleb(-exp), rounding=ROUND_HALF_EVEN).scaleb(exp))


def nbt_rate(currency: str, day: date) -> Decimal:
    """The official TJS price of one unit, interpolated between the known NBT quotes."""
    anchors = NBT_RATES[currency]
    if day <= anchors[0][0]:
        return anchors[0][1]
    for (d0, r0), (d1, r1) in pairwise(anchors):
        if day <= d1:
            share = Decimal((day - d0).days) / Decimal((d1 - d0).days)
            return (r0 + (r1 - r0) * share).quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)
    return anchors[-1][1]


def alif_rate(currency: str, day: date, *, bank_buys: bool) -> Decimal:
    """Alif's TJS price of one unit on `day`: its buy rate, or its sell rate."""
    margin = BANK_BUYS if bank_buys else BANK_SELLS
    return (nbt_rate(currency, day) * margin).quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)


def corridor_rate(currency: str, day: date, share: Decimal) -> Decimal:
    """A remittance corridor's TJS price of one unit: `share` of the official rate."""
    return (nbt_rate(currency, day) * share).quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)
