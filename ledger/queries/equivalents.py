"""A statement of a foreign-currency account in another currency (TJS by default): the
same statement, each figure converted by the one rule of `ledger.fx` at NBT's rates.

- opening balance: at the rate of the day before `from` (the balance is the one at the
  end of that day); closing balance: at the rate of `to`;
- debits and credits: each day's sum at that day's rate (the latest publication on or
  before it), rounded half-even per day;
- revaluation: closing - (opening + credits - debits), what the rate's moves made of the
  balance over the period (an exchange difference, not a transaction).

The account's own statement, in its own currency, is unchanged: this is a view of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import fx
from ledger.money import Money
from ledger.queries import live, sum_minor
from ledger.queries.statements import TX, StatementFigures, _as_of, not_a_copy_here


@dataclass(frozen=True, slots=True)
class StatementEquivalent:
    opening: Money
    closing: Money
    debits: Money
    credits: Money
    revaluation: Money
    rates: tuple[fx.AppliedRate, ...]


async def statement_equivalent(
    session: AsyncSession,
    account_id: int,
    figures: StatementFigures,
    date_from: date,
    date_to: date,
    target: str,
    *,
    booked_only: bool,
    as_of: datetime | None = None,
) -> StatementEquivalent | None:
    """`figures` (the account's statement) in `target`; None when a rate is missing."""
    currency = figures.currency
    book = await fx.rate_book(session, target, [currency], date_to)
    used: set[fx.AppliedRate] = set()

    def at(money: Money, day: date) -> Money | None:
        rate = book.on(currency, day)
        converted = fx.convert(money, target, rate)
        if converted is None:
            return None
        if converted.rate is not None:
            used.add(converted.rate)
        return converted.amount

    opening = at(figures.opening, date_from - timedelta(days=1))
    closing = at(figures.closing, date_to)
    if opening is None or closing is None:
        return None
    t = TX if as_of is None else _as_of(as_of)
    amount = t.c.amount_minor
    stmt = (
        select(
            t.c.booking_date,
            sum_minor(case((amount < 0, -amount), else_=0)),
            sum_minor(case((amount > 0, amount), else_=0)),
        )
        .where(
            t.c.account_id == account_id,
            live(t),
            not_a_copy_here(t, account_id),
            t.c.booking_date.between(date_from, date_to),
        )
        .group_by(t.c.booking_date)
    )
    if booked_only:
        stmt = stmt.where(t.c.status == "BOOKED")
    debits, credits = Money.zero(target), Money.zero(target)
    for day, day_debits, day_credits in (await session.execute(stmt)).all():
        d = at(Money(int(day_debits), currency), day)
        c = at(Money(int(day_credits), currency), day)
        if d is None or c is None:
            return None
        debits, credits = debits + d, credits + c
    return StatementEquivalent(
        opening=opening,
        closing=closing,
        debits=debits,
        credits=credits,
        revaluation=closing - (opening + credits - debits),
        rates=tuple(sorted(used, key=lambda r: (r.on_date, r.source))),
    )
