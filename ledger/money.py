"""Exact money: integer minor units plus an ISO 4217 currency code.

Amounts never pass through float. Upstream decimal strings are parsed with `Decimal`
and refused when they do not fit the currency's exponent or a 64-bit column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# ISO 4217 minor-unit exponents. Only currencies listed here are accepted: an unknown
# code is far more likely a mapping bug than a real currency we should guess about.
CURRENCY_EXPONENTS: dict[str, int] = {
    "TJS": 2,
    "USD": 2,
    "EUR": 2,
    "RUB": 2,
    "UZS": 2,
    "KZT": 2,
    "KGS": 2,
    "CNY": 2,
    "GBP": 2,
    "CHF": 2,
    "TRY": 2,
    "AED": 2,
    "AFN": 2,
    "TMT": 2,
    "AZN": 2,
    "GEL": 2,
    "AMD": 2,
    "BYN": 2,
    "UAH": 2,
    "INR": 2,
    "PKR": 2,
    "IRR": 2,
    "SAR": 2,
    "CAD": 2,
    "AUD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "LYD": 3,
    "IQD": 3,
}

# Amount columns are signed BIGINT.
MAX_MINOR = 2**63 - 1
MIN_MINOR = -(2**63)

# Plain decimal notation with an optional exponent; no thousands separators, no commas,
# no whitespace, no underscores (all of which `Decimal()` would otherwise tolerate).
_DECIMAL_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency code {currency!r}") from None


def parse_decimal(text: str) -> Decimal:
    """Parse a strict decimal string; refuse NaN, infinities and sloppy formats."""
    if not isinstance(text, str) or not _DECIMAL_RE.match(text):
        raise MoneyError(f"not a decimal amount: {str(text)[:40]!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise MoneyError(f"not a decimal amount: {text[:40]!r}") from None
    # A huge exponent (1e999999999) is refused before any arithmetic scales it.
    if value and not -30 <= value.adjusted() <= 30:
        raise MoneyError(f"amount out of range: {text[:40]!r}")
    return value


def to_minor(value: Decimal, currency: str) -> int:
    """Convert an exact decimal into minor units, refusing excess precision or overflow."""
    if not value.is_finite():
        raise MoneyError("amount is not finite")
    exp = exponent(currency)
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{value} has more than {exp} decimal places for {currency}")
    minor = int(scaled)
    if not MIN_MINOR <= minor <= MAX_MINOR:
        raise MoneyError(f"amount out of range: {value}")
    return minor


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string with exactly the currency's decimals."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""  # never "-0.00": zero has no sign
    digits = str(abs(minor)).rjust(exp + 1, "0")
    if exp == 0:
        return sign + digits
    return f"{sign}{digits[:-exp]}.{digits[-exp:]}"


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        # Every row the ledger reads builds Money: one combined test for the valid case,
        # then the precise error.
        minor = self.minor
        if (
            type(minor) is int
            and MIN_MINOR <= minor <= MAX_MINOR
            and self.currency in CURRENCY_EXPONENTS
        ):
            return
        if type(minor) is not int:
            raise MoneyError(f"minor units must be an int, not {type(minor).__name__}")
        exponent(self.currency)
        raise MoneyError("amount out of range")

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """`Money.parse("-120.50", "TJS") == Money(-12050, "TJS")`."""
        # Nearly every upstream amount is plain ("-120.50"): integer arithmetic on its
        # digits gives the very minor units the Decimal path would, at a fraction of the
        # cost (a sync parses two or three a row). Plain: an optional sign, 1-18 ASCII
        # digits, optionally a point and at most the currency's decimals. Anything else
        # takes the Decimal path, and so do its errors.
        exp = CURRENCY_EXPONENTS.get(currency)
        if exp is not None and type(text) is str and text.isascii():
            whole, _, fraction = (text[1:] if text[:1] in ("-", "+") else text).partition(".")
            if (
                0 < len(whole) <= 18
                and len(fraction) <= exp
                and whole.isdigit()
                and (fraction.isdigit() or not fraction)
            ):
                minor = int(whole + fraction + "0" * (exp - len(fraction)))
                if text[0] == "-":
                    minor = -minor
                if MIN_MINOR <= minor <= MAX_MINOR:
                    return cls(minor, currency)
        exponent(currency)
        return cls(to_minor(parse_decimal(text), currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def format(self) -> str:
        return format_minor(self.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.format()} {self.currency}"

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    @property
    def is_negative(self) -> bool:
        return self.minor < 0


def money_sum(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
    """Sum that refuses mixed currencies and is zero (not an error) for no items."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
