import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    CURRENCY_EXPONENTS,
    MAX_MINOR,
    Money,
    MoneyError,
    exponent,
    format_minor,
    money_sum,
    parse_decimal,
    to_minor,
)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("-120.50", "TJS", -12050),
        ("120.5", "TJS", 12050),
        ("0", "TJS", 0),
        ("-0.00", "TJS", 0),
        ("10", "EUR", 1000),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("1.5e2", "USD", 15000),
        ("+3.10", "RUB", 310),
        ("0.100", "TJS", 10),  # trailing zeros are not extra precision
    ],
)
def test_parse_exact(text: str, currency: str, minor: int) -> None:
    assert Money.parse(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("NaN", "TJS", "not a decimal"),
        ("nan", "TJS", "not a decimal"),
        ("Infinity", "TJS", "not a decimal"),
        ("-inf", "TJS", "not a decimal"),
        ("1e309", "TJS", "out of range"),
        ("1e99999999999", "TJS", "out of range"),
        ("92233720368547758.08", "TJS", "out of range"),
        ("12,50", "TJS", "not a decimal"),
        ("1 000", "TJS", "not a decimal"),
        ("1_000", "TJS", "not a decimal"),
        (" 1.00", "TJS", "not a decimal"),
        ("", "TJS", "not a decimal"),
        ("1.234", "TJS", "more than 2 decimal places"),
        ("0.001", "USD", "more than 2 decimal places"),
        ("1.5", "JPY", "more than 0 decimal places"),
        ("1.00", "XXX", "unknown currency"),
        ("1.00", "tjs", "unknown currency"),
    ],
)
def test_parse_rejects_with_clear_error(text: str, currency: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        Money.parse(text, currency)


def test_format_has_currency_decimals_and_no_negative_zero() -> None:
    assert Money(0, "TJS").format() == "0.00"
    assert Money(-5, "TJS").format() == "-0.05"
    assert Money(-12050, "TJS").format() == "-120.50"
    assert Money(1500, "JPY").format() == "1500"
    assert Money(-1, "KWD").format() == "-0.001"
    assert format_minor(-0, "USD") == "0.00"


def test_arithmetic_refuses_mixed_currencies() -> None:
    assert Money(10, "TJS") + Money(20, "TJS") == Money(30, "TJS")
    assert Money(10, "TJS") - Money(20, "TJS") == Money(-10, "TJS")
    with pytest.raises(MoneyError, match="cannot combine TJS with USD"):
        _ = Money(10, "TJS") + Money(20, "USD")
    with pytest.raises(TypeError):
        _ = Money(10, "TJS") + 1  # type: ignore[operator]


def test_money_refuses_floats_and_bools() -> None:
    with pytest.raises(MoneyError):
        Money(1.5, "TJS")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, "TJS")


def test_sum_is_exact() -> None:
    assert money_sum([Money.parse("0.10", "TJS"), Money.parse("0.20", "TJS")], "TJS") == Money(
        30, "TJS"
    )
    assert money_sum([], "USD") == Money(0, "USD")


currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
minors = st.integers(min_value=-(10**15), max_value=10**15)


@given(minors, currencies)
def test_format_parse_round_trip(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.format(), currency) == money


@given(minors, currencies)
def test_amount_matches_decimal(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert money.amount == Decimal(money.format())


@given(st.lists(minors, max_size=50), currencies)
def test_sum_equals_integer_sum(items: list[int], currency: str) -> None:
    total = money_sum([Money(m, currency) for m in items], currency)
    assert total.minor == sum(items)
    assert Money.parse(total.format(), currency) == total


def test_bounds() -> None:
    assert Money(MAX_MINOR, "TJS").format() == "92233720368547758.07"
    with pytest.raises(MoneyError):
        Money(MAX_MINOR + 1, "TJS")


def _by_decimal(text: str, currency: str) -> Money:
    """The Decimal path alone: what `Money.parse` answered before its plain-amount path
    (the currency checked first: an unknown one is the error whatever the text)."""
    exponent(currency)
    return Money(to_minor(parse_decimal(text), currency), currency)


amount_texts = st.one_of(
    st.from_regex(r"[+-]?[0-9]{1,21}(\.[0-9]{0,4})?", fullmatch=True),
    st.text(alphabet="0123456789.+-eE٣ _²\n", max_size=14),
)


@given(amount_texts, st.sampled_from([*sorted(CURRENCY_EXPONENTS), "XXX"]))
def test_parse_answers_as_the_decimal_path_does(text: str, currency: str) -> None:
    try:
        expected = _by_decimal(text, currency)
    except MoneyError as exc:
        with pytest.raises(MoneyError, match=f"^{re.escape(str(exc))}$"):
            Money.parse(text, currency)
        return
    assert Money.parse(text, currency) == expected
