"""Conversion between currencies: the one owner of the rule (docs/fx-and-remittances.md).

An amount in one currency is converted into another at a stated rate, and the result is
rounded half-even (banker's rounding) to the target currency's minor unit, taken from the
ledger's currency table (`ledger.money`). Nothing passes through float; the original
amount is never replaced, a conversion is always shown next to it with its rate.

Which rate: the latest one on or before the day (`RateBook.on`); among the rates of one
day the official source (NBT, the National Bank of Tajikistan) wins over a bank's own,
then a direct quote over an inverted one, then by source name, so the choice never depends
on row order. Two currencies that are not TJS are crossed through TJS (NBT quotes every
currency against the somoni), at the two rates of the same day rule.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import ExchangeRate, table
from ledger.money import Money, exponent

RATES = table(ExchangeRate)

# Rates of the official source win over a bank's own rates of the same day.
OFFICIAL_SOURCE = "NBT"
# The currency every NBT rate is quoted in.
HOME = "TJS"


@dataclass(frozen=True, slots=True)
class AppliedRate:
    """A rate used for a conversion: one `base` buys `rate` units of `quote`, as published
    on `on_date` (the latest publication on or before the day converted)."""

    base: str
    quote: str
    rate: Decimal
    on_date: date
    source: str


@dataclass(frozen=True, slots=True)
class StoredRate:
    """An `exchange_rate` row as read."""

    base: str
    quote: str
    rate: str
    on_date: date
    source: str


@dataclass(frozen=True, slots=True)
class Converted:
    """An amount converted: the result, the original and the rate (None: same currency)."""

    amount: Money
    original: Money
    rate: AppliedRate | None


def convert_minor(minor: int, source: str, target: str, rate: Decimal) -> int:
    """`minor` units of `source` in minor units of `target`, at `rate` target per source,
    rounded half-even."""
    converted = (Decimal(minor) * rate).scaleb(exponent(target) - exponent(source))
    return int(converted.to_integral_value(ROUND_HALF_EVEN))


def convert(money: Money, target: str, rate: AppliedRate | None) -> Converted | None:
    """`money` in `target` at `rate` (which must quote `money`'s currency in `target`);
    None when a conversion is needed and there is no rate."""
    exponent(target)
    if money.currency == target:
        return Converted(amount=money, original=money, rate=None)
    if rate is None:
        return None
    if (rate.base, rate.quote) != (money.currency, target):
        raise ValueError(f"a {rate.base}/{rate.quote} rate cannot convert {money.currency}")
    minor = convert_minor(money.minor, money.currency, target, rate.rate)
    return Converted(amount=Money(minor, target), original=money, rate=rate)


class RateBook:
    """Rates into one currency; a day is answered by the latest rate on or before it.

    Among rates of one day: the official source first, then a direct quote over an
    inverted one, then by source name, so the choice never depends on row order. A
    currency with no rate into the target is crossed through TJS when both have one.
    """

    def __init__(self, target: str, rates: Sequence[StoredRate]) -> None:
        self.target = target
        self._direct = _Series(target, rates)
        self._home = _Series(HOME, rates) if target != HOME else self._direct

    def on(self, currency: str, day: date) -> AppliedRate | None:
        if currency == self.target:
            return None
        found = self._direct.on(currency, day)
        if found is not None or HOME in (currency, self.target):
            return found
        into_home = self._home.on(currency, day)
        target_in_home = self._home.on(self.target, day)
        if into_home is None or target_in_home is None:
            return None
        return AppliedRate(
            base=currency,
            quote=self.target,
            rate=into_home.rate / target_in_home.rate,
            on_date=min(into_home.on_date, target_in_home.on_date),
            source=into_home.source
            if into_home.source == target_in_home.source
            else f"{into_home.source}+{target_in_home.source}",
        )


class _Series:
    def __init__(self, target: str, rates: Sequence[StoredRate]) -> None:
        best: dict[tuple[str, date], tuple[tuple[int, int, str], AppliedRate]] = {}
        for row in rates:
            if target not in (row.base, row.quote) or row.base == row.quote:
                continue
            rate = Decimal(row.rate)
            if not rate.is_finite() or rate <= 0:
                continue
            direct = row.quote == target
            currency = row.base if direct else row.quote
            applied = AppliedRate(
                base=currency,
                quote=target,
                rate=rate if direct else Decimal(1) / rate,
                on_date=row.on_date,
                source=row.source,
            )
            rank = (0 if row.source == OFFICIAL_SOURCE else 1, 0 if direct else 1, row.source)
            key = (currency, row.on_date)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, applied)
        self._days: dict[str, list[date]] = defaultdict(list)
        self._rates: dict[str, list[AppliedRate]] = defaultdict(list)
        for (currency, day), (_, applied) in sorted(best.items()):
            self._days[currency].append(day)
            self._rates[currency].append(applied)

    def on(self, currency: str, day: date) -> AppliedRate | None:
        index = bisect_right(self._days.get(currency, []), day)
        return self._rates[currency][index - 1] if index else None


async def rates_into(
    session: AsyncSession, target: str, currencies: Sequence[str], until: date
) -> list[StoredRate]:
    """The stored rates a `RateBook` into `target` needs for `currencies` up to `until`:
    direct and inverted quotes, and the quotes into TJS to cross through. One statement."""
    wanted = sorted(set(currencies) - {target})
    if not wanted:
        return []
    columns = (RATES.c.base, RATES.c.quote, RATES.c.rate, RATES.c.on_date, RATES.c.source)
    pairs = [
        and_(RATES.c.base.in_(wanted), RATES.c.quote == target),
        and_(RATES.c.base == target, RATES.c.quote.in_(wanted)),
    ]
    if target != HOME:
        crossed = [*wanted, target]
        pairs += [
            and_(RATES.c.base.in_(crossed), RATES.c.quote == HOME),
            and_(RATES.c.base == HOME, RATES.c.quote.in_(crossed)),
        ]
    stmt = select(*columns).where(RATES.c.on_date <= until, or_(*pairs))
    return [StoredRate(*values) for values in await session.execute(stmt)]


async def rate_book(
    session: AsyncSession, target: str, currencies: Sequence[str], until: date
) -> RateBook:
    return RateBook(target, await rates_into(session, target, currencies, until))
