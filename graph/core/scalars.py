"""Scalars (Decimal as an exact string, Date, DateTime) and Money, a view of the ledger's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.schema.types.base_scalars import DateDefinition
from strawberry.types.scalar import ScalarDefinition, scalar

from ledger import money
from ledger.money import MoneyError, parse_decimal


def _serialize_decimal(value: Decimal | str) -> str:
    # A string is an amount the ledger has formatted already (see Money). Otherwise
    # fixed-point: never scientific notation ("1E+2") and never a float.
    return value if isinstance(value, str) else format(value, "f")


def _parse_decimal(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('a Decimal is given as a string, e.g. "120.50"')
    try:
        return parse_decimal(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("a DateTime is an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a DateTime needs a UTC offset, e.g. 2025-03-10T08:30:00+05:00")
    return parsed


DecimalScalar: ScalarDefinition = scalar(
    name="Decimal",
    description='An exact decimal number as a string, e.g. "-120.50". Never a float.',
    serialize=_serialize_decimal,
    parse_value=_parse_decimal,
)
DateTimeScalar: ScalarDefinition = scalar(
    name="DateTime",
    description="An ISO 8601 timestamp with a UTC offset, e.g. 2025-03-10T08:30:00+00:00.",
    serialize=dt.datetime.isoformat,
    parse_value=_parse_datetime,
)

SCALARS: dict[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    dt.datetime: DateTimeScalar,
    dt.date: DateDefinition,
}


@strawberry.type(description="An exact amount of money in a currency.")
class Money:
    """How the API shows a `ledger.money.Money`: the amount as the ledger formats it."""

    amount: str = strawberry.field(
        graphql_type=Decimal, description="Signed, with exactly the currency's number of decimals."
    )
    currency: str = strawberry.field(description="ISO 4217 code.")

    @classmethod
    def of(cls, value: money.Money) -> Money:
        return cls(amount=value.format(), currency=value.currency)

    @classmethod
    def maybe(cls, value: money.Money | None) -> Money | None:
        return None if value is None else cls.of(value)
