"""Amounts converted at a stated rate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from graph.context import Info
from graph.core.errors import BadUserInput
from graph.insights.types import ExchangeRate
from graph.rates.loaders import RateOnDayLoader
from ledger import fx, money

CURRENCY_ARGUMENT = strawberry.argument(
    description="ISO 4217 code of the currency to convert into (default TJS)."
)


@strawberry.type(
    description="An amount converted into another currency at the rate of a day (the "
    "latest NBT rate on or before it), rounded half-even to the currency's minor unit. The "
    "original amount stays where it was; this is a view of it."
)
class ConvertedMoney:
    amount: str = strawberry.field(
        graphql_type=Decimal, description="Signed, with exactly the currency's decimals."
    )
    currency: str
    rate: ExchangeRate | None = strawberry.field(
        description="The rate applied, with the day it was published and its source; null "
        "when the amount already is in `currency`."
    )
    rate_carried: bool = strawberry.field(
        description="True when the rate is of an earlier day than the one converted (no "
        "publication that day: a weekend or a holiday)."
    )

    @classmethod
    def of(cls, converted: fx.Converted, day: date) -> ConvertedMoney:
        rate = converted.rate
        return cls(
            amount=converted.amount.format(),
            currency=converted.amount.currency,
            rate=None if rate is None else ExchangeRate.of(rate),
            rate_carried=rate is not None and rate.on_date != day,
        )


def check_currency(currency: str) -> str:
    if currency not in money.CURRENCY_EXPONENTS:
        raise BadUserInput(f"Unknown currency {currency[:8]!r}.")
    return currency


async def converted(
    info: Info, value: money.Money, target: str, day: date
) -> ConvertedMoney | None:
    """`value` in `target` at the rate of `day`; None when no rate is stored for it."""
    check_currency(target)
    rate = None
    if value.currency != target:
        rate = await info.context.loaders.get(RateOnDayLoader).load((value.currency, target, day))
    result = fx.convert(value, target, rate)
    return None if result is None else ConvertedMoney.of(result, day)
