"""The stored exchange-rate series: the owner of `exchange_rate`.

Official rates come from the National Bank of Tajikistan (`connectors/nbt/`): on each day
it publishes, one unit of each currency costs `rate` TJS. A day without a publication
(weekends, holidays) has no row: its rate is the latest earlier one, and `rate_on` says
which day that is, so a caller can show "rate of 2025-03-07" for a Saturday.

Rates are exact decimals stored as canonical strings (never float, never Numeric on
SQLite). A publication is stored whole or not at all: `store_publications` writes every
day of a sync in the caller's one transaction, and a rate the bank re-publishes for a day
replaces the stored one (NBT corrects a day's rates on rare occasions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import ExchangeRate, table
from ledger.money import exponent
from ledger.types import utcnow
from ledger.writes import insert_for

RATES = table(ExchangeRate)
NBT = "NBT"
HOME = "TJS"


class RateError(ValueError):
    """A rate that cannot be stored: not a positive finite decimal, an unknown currency."""


@dataclass(frozen=True, slots=True)
class Publication:
    """One day's official rates: TJS per one unit of each currency."""

    on_date: date
    rates: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FoundRate:
    """The rate that applies on `asked`: published on `on_date` (the latest publication on
    or before `asked`); `carried` when that is an earlier day."""

    base: str
    quote: str
    rate: Decimal
    asked: date
    on_date: date
    source: str

    @property
    def carried(self) -> bool:
        return self.on_date != self.asked


def canonical(rate: Decimal) -> str:
    """The stored form of a rate: plain notation, no exponent, no trailing zeros lost
    beyond what the publication had (`10.9592`, `0.1200`)."""
    if not rate.is_finite() or rate <= 0:
        raise RateError(f"not a positive rate: {rate}")
    return format(rate, "f")


async def store_publications(
    session: AsyncSession, publications: Sequence[Publication], *, source: str = NBT
) -> int:
    """Upsert the rates of `publications` (base = the currency, quote = TJS); the number of
    rates written. The caller's transaction holds them all: nothing partial is stored."""
    rows = []
    now = utcnow()
    for publication in publications:
        for currency, rate in sorted(publication.rates.items()):
            try:
                exponent(currency)
            except ValueError:
                raise RateError(f"unknown currency code {currency!r}") from None
            rows.append(
                {
                    "base": currency,
                    "quote": HOME,
                    "rate": canonical(rate),
                    "on_date": publication.on_date,
                    "source": source,
                    "created_at": now,
                }
            )
    if not rows:
        return 0
    for start in range(0, len(rows), 500):
        stmt = insert_for(session, RATES).values(rows[start : start + 500])
        stmt = stmt.on_conflict_do_update(
            index_elements=["base", "quote", "on_date", "source"],
            set_={"rate": stmt.excluded.rate},
        )
        await session.execute(stmt)
    return len(rows)


async def published_days(
    session: AsyncSession, date_from: date, date_to: date, *, source: str = NBT
) -> set[date]:
    """The days in `[date_from, date_to]` with a stored publication of `source`."""
    stmt = (
        select(RATES.c.on_date)
        .where(RATES.c.source == source, RATES.c.on_date.between(date_from, date_to))
        .distinct()
    )
    return set((await session.execute(stmt)).scalars())


async def series(
    session: AsyncSession,
    base: str,
    quote: str,
    date_from: date,
    date_to: date,
    *,
    source: str | None = None,
) -> list[FoundRate]:
    """The stored rates of `base` in `quote` over `[date_from, date_to]`, oldest first: the
    days with a publication only (a direct quote, or an inverted one where only that is
    stored). Among sources of one day the official one comes first."""
    stmt = (
        select(RATES.c.base, RATES.c.quote, RATES.c.rate, RATES.c.on_date, RATES.c.source)
        .where(
            RATES.c.on_date.between(date_from, date_to),
            or_(
                and_(RATES.c.base == base, RATES.c.quote == quote),
                and_(RATES.c.base == quote, RATES.c.quote == base),
            ),
        )
        .order_by(RATES.c.on_date, RATES.c.source)
    )
    if source is not None:
        stmt = stmt.where(RATES.c.source == source)
    found: dict[tuple[date, str], FoundRate] = {}
    for b, _q, text, day, src in await session.execute(stmt):
        rate = Decimal(text)
        direct = b == base
        value = rate if direct else Decimal(1) / rate
        key = (day, src)
        if key in found and not direct:
            continue  # a direct quote wins over the inverse of another
        found[key] = FoundRate(base, quote, value, day, day, src)
    return sorted(found.values(), key=lambda r: (r.on_date, r.source != NBT, r.source))


async def rate_on(
    session: AsyncSession, currency: str, day: date, *, source: str = NBT
) -> FoundRate | None:
    """TJS per one unit of `currency` on `day`: the latest publication on or before it."""
    if currency == HOME:
        return FoundRate(HOME, HOME, Decimal(1), day, day, source)
    stmt = (
        select(RATES.c.rate, RATES.c.on_date)
        .where(
            RATES.c.base == currency,
            RATES.c.quote == HOME,
            RATES.c.source == source,
            RATES.c.on_date <= day,
        )
        .order_by(RATES.c.on_date.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return FoundRate(currency, HOME, Decimal(row[0]), day, row[1], source)


async def latest_publication_before(
    session: AsyncSession, day: date, *, source: str = NBT
) -> date | None:
    """The last day before `day` with a stored publication of `source`."""
    stmt = select(func.max(RATES.c.on_date)).where(RATES.c.source == source, RATES.c.on_date < day)
    found: date | None = (await session.execute(stmt)).scalar_one_or_none()
    return found
