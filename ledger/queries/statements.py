"""Period statements of one account: opening and closing balances, debits, credits, and
whether they reconcile with each other and with the bank's reported balance."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, BalanceSnapshot, Transaction, table
from ledger.money import Money
from ledger.queries import BANK_TIMEZONE, bank_day_start, live, sum_minor

ACCOUNTS = table(Account)
BALANCES = table(BalanceSnapshot)
TX = table(Transaction)


@dataclass(frozen=True, slots=True)
class StatementFigures:
    """A statement, every amount in the account's currency.

    The closing balance comes from the running balance where the ledger has one, not from
    the period sums, so `reconciled` is a real check rather than an identity.
    """

    opening: Money
    closing: Money
    debits: Money  # positive
    credits: Money
    count: int
    bank_reported: Money | None
    # The booked part of the closing balance: what the bank's booked balance must equal.
    booked_closing: Money

    @property
    def currency(self) -> str:
        return self.opening.currency

    @property
    def reconciled(self) -> bool:
        arithmetic = self.opening + self.credits - self.debits
        bank = self.bank_reported
        return arithmetic == self.closing and (bank is None or bank == self.booked_closing)


@dataclass(frozen=True, slots=True)
class _LastBooked:
    """The last booked transaction up to the end of a period: where its running balance
    stands and when it was booked."""

    balance_after_minor: int | None
    booking_date: date
    booked_at: datetime | None


@dataclass(frozen=True, slots=True)
class _Sums:
    debits: int = 0
    credits: int = 0
    net: int = 0
    count: int = 0


def _chain(*, descending: bool) -> list[Any]:
    """The order of the running balance: booking day, then booking time, then id."""
    if descending:
        return [TX.c.booking_date.desc(), TX.c.booked_at.desc().nulls_last(), TX.c.id.desc()]
    return [TX.c.booking_date.asc(), TX.c.booked_at.asc().nulls_last(), TX.c.id.asc()]


async def statement_figures(
    session: AsyncSession, account_id: int, date_from: date, date_to: date, *, booked_only: bool
) -> StatementFigures:
    """The statement of `[date_from, date_to]` (booking dates, inclusive), in the account's
    currency (LookupError when there is no such account).

    Opening balance. The ledger may start later than the account did, so summing from zero
    is the last resort: (1) the first booked transaction on or after `date_from`, if it
    carries a balance: its `balance_after - amount`; else (2) the last booked transaction
    before `date_from` that carries one: its `balance_after`; else (3) the sum of the
    booked amounts before `date_from`.

    Closing balance. The `balance_after` of the last booked transaction on or before
    `date_to` when it has one, else opening + booked net of the period. With
    `booked_only=False`, the period's pending (not superseded) rows are added to the
    debits, credits, count and closing balance.

    Bank-reported balance. The latest BOOKED snapshot taken no later than the end of
    `date_to` (Dushanbe time) and not before the last booked transaction up to `date_to`
    (its booking time, else its booking day): only such a snapshot must equal the booked
    closing balance. Otherwise there is none to compare with.
    """
    booked = and_(TX.c.account_id == account_id, TX.c.status == "BOOKED", live())
    sums = await _period_sums(session, account_id, date_from, date_to)
    currency, opening = await _opening_balance(session, account_id, booked, date_from)
    last = await _last_booked(session, booked, date_to)
    if last is not None and last.balance_after_minor is not None:
        booked_closing = int(last.balance_after_minor)
    else:
        booked_closing = opening + sums["BOOKED"].net

    shown = [sums["BOOKED"]] if booked_only else [sums["BOOKED"], sums["PENDING"]]
    pending_net = 0 if booked_only else sums["PENDING"].net
    bank_reported = await _bank_reported(session, account_id, date_to, last)
    return StatementFigures(
        opening=Money(opening, currency),
        closing=Money(booked_closing + pending_net, currency),
        debits=Money(sum(s.debits for s in shown), currency),
        credits=Money(sum(s.credits for s in shown), currency),
        count=sum(s.count for s in shown),
        bank_reported=None if bank_reported is None else Money(bank_reported, currency),
        booked_closing=Money(booked_closing, currency),
    )


async def _period_sums(
    session: AsyncSession, account_id: int, date_from: date, date_to: date
) -> dict[str, _Sums]:
    amount = TX.c.amount_minor
    stmt = (
        select(
            TX.c.status,
            sum_minor(case((amount < 0, -amount), else_=0)),
            sum_minor(case((amount > 0, amount), else_=0)),
            sum_minor(amount),
            func.count(),
        )
        .where(
            TX.c.account_id == account_id,
            live(),
            TX.c.booking_date.between(date_from, date_to),
        )
        .group_by(TX.c.status)
    )
    sums: dict[str, _Sums] = defaultdict(_Sums)
    for status, debits, credits, net, n in (await session.execute(stmt)).all():
        sums[status] = _Sums(int(debits), int(credits), int(net), int(n))
    return sums


async def _opening_balance(
    session: AsyncSession, account_id: int, booked: ColumnElement[bool], date_from: date
) -> tuple[str, int]:
    """The account's currency (read with the anchors, saving a statement) and the opening
    balance in its minor units."""
    first_on_or_after = (
        select(TX.c.balance_after_minor - TX.c.amount_minor)
        .where(booked, TX.c.booking_date >= date_from)
        .order_by(*_chain(descending=False))
        .limit(1)
        .scalar_subquery()
    )
    last_before = (
        select(TX.c.balance_after_minor)
        .where(booked, TX.c.booking_date < date_from, TX.c.balance_after_minor.is_not(None))
        .order_by(*_chain(descending=True))
        .limit(1)
        .scalar_subquery()
    )
    currency = select(ACCOUNTS.c.currency).where(ACCOUNTS.c.id == account_id).scalar_subquery()
    anchors = select(currency, first_on_or_after, last_before)
    code, from_next, from_previous = (await session.execute(anchors)).one()
    if code is None:
        raise LookupError(f"no account {account_id}")
    if from_next is not None:
        return code, int(from_next)
    if from_previous is not None:
        return code, int(from_previous)
    before = select(sum_minor(TX.c.amount_minor)).where(booked, TX.c.booking_date < date_from)
    return code, int((await session.execute(before)).scalar_one())


async def _last_booked(
    session: AsyncSession, booked: ColumnElement[bool], date_to: date
) -> _LastBooked | None:
    stmt = (
        select(TX.c.balance_after_minor, TX.c.booking_date, TX.c.booked_at)
        .where(booked, TX.c.booking_date <= date_to)
        .order_by(*_chain(descending=True))
        .limit(1)
    )
    found = (await session.execute(stmt)).first()
    return None if found is None else _LastBooked(*found)


async def _bank_reported(
    session: AsyncSession, account_id: int, date_to: date, last: _LastBooked | None
) -> int | None:
    stmt = (
        select(BALANCES.c.amount_minor, BALANCES.c.as_of)
        .where(
            BALANCES.c.account_id == account_id,
            BALANCES.c.type == "BOOKED",
            BALANCES.c.as_of < bank_day_start(date_to + timedelta(1)),
        )
        .order_by(BALANCES.c.as_of.desc())
        .limit(1)
    )
    snapshot = (await session.execute(stmt)).first()
    if snapshot is None:
        return None
    amount_minor, as_of = snapshot
    if last is not None and not _taken_after(as_of, last):
        return None
    return int(amount_minor)


def _taken_after(as_of: datetime, last: _LastBooked) -> bool:
    if last.booked_at is not None:
        return as_of >= last.booked_at
    return as_of.astimezone(BANK_TIMEZONE).date() >= last.booking_date
