"""Scalars (Decimal as an exact string, Date, DateTime) and Money, a view of the ledger's.

Each scalar refuses, as BAD_USER_INPUT, what the layers below could not hold: dates outside
FIRST_DAY..LAST_DAY (a day before or after them, or a UTC offset applied to them, must still
be a date, and both databases must store it alike) and decimals too large for the ledger's
64-bit minor units. Text is checked once per request in graph/core/inputs.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.types.scalar import ScalarDefinition, scalar

from ledger import money
from ledger.money import MoneyError, parse_decimal

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
_RANGE = f"between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
# The largest amount that is a 64-bit number of minor units in every currency the ledger
# knows (an amount filter is compared in each currency's minor units).
MAX_DECIMAL = Decimal(money.MAX_MINOR).scaleb(-max(money.CURRENCY_EXPONENTS.values()))


def serialize_decimal(value: Decimal | str) -> str:
    # A string is an amount the ledger has formatted already (see Money). Otherwise
    # fixed-point: never scientific notation ("1E+2") and never a float.
    return value if isinstance(value, str) else format(value, "f")


def _parse_decimal(value: object) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('a Decimal is given as a string, e.g. "120.50"')
    try:
        parsed = parse_decimal(value)
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if abs(parsed) > MAX_DECIMAL:
        raise ValueError(f"a Decimal is at most {MAX_DECIMAL:f} in absolute value")
    return parsed


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError("a Date is an ISO 8601 string, e.g. 2025-03-10")
    parsed = dt.date.fromisoformat(value)
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValueError(f"a Date is {_RANGE}")
    return parsed


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("a DateTime is an ISO 8601 string")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a DateTime needs a UTC offset, e.g. 2025-03-10T08:30:00+05:00")
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        raise ValueError(f"a DateTime is {_RANGE}")
    return parsed


DecimalScalar: ScalarDefinition = scalar(
    name="Decimal",
    description='An exact decimal number as a string, e.g. "-120.50". Never a float.',
    serialize=serialize_decimal,
    parse_value=_parse_decimal,
)
DateScalar: ScalarDefinition = scalar(
    name="Date",
    description=f"An ISO 8601 calendar date, e.g. 2025-03-10; {_RANGE}.",
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
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
    dt.date: DateScalar,
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
