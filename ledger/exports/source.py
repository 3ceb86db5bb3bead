"""What every export reads: the statement's head (account, bank, period, the figures of
`ledger.queries.statements`) and the period's rows, streamed.

The rows come through a server-side cursor (`AsyncSession.stream` with `yield_per`), in
the running balance's order (booking day, booking time, id), so an export of a million rows
holds one batch at a time. Rows that do not count are left out: `live` (superseded pending
rows, booked rows the bank no longer lists) and rows marked as duplicates of another
with the statement's own rule (`statements.not_a_copy_here`: a duplicate of a row of the
same account), so every file's totals are the statement's. Booked rows only unless asked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import rates
from ledger.enrich.taxonomy import canonical
from ledger.models import Account, Institution, Transaction, table
from ledger.queries import effective_category, live
from ledger.queries.history_views import period_reconciled
from ledger.queries.statements import StatementFigures, not_a_copy_here, statement_figures

TX = table(Transaction)
ACCOUNTS = table(Account)
INSTITUTIONS = table(Institution)
BATCH = 2000  # rows per fetch from the server-side cursor


def exported(account_id: int) -> ColumnElement[bool]:
    """The rows an export shows: those the account's statement counts."""
    return and_(live(TX), not_a_copy_here(TX, account_id))


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One movement of the account, as the formats need it (amounts in minor units)."""

    id: int
    external_id: str
    status: str  # BOOKED PENDING
    booking_date: date
    value_date: date | None
    booked_at: datetime | None
    amount_minor: int
    balance_after_minor: int | None  # the running balance after it (computed when missing)
    type: str
    description: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    counterparty_bank: str | None
    merchant_name: str | None
    category: str | None  # the effective one (the customer's own wins), as a taxonomy code

    @property
    def counterparty(self) -> str | None:
        return self.counterparty_name or self.merchant_name


@dataclass(frozen=True, slots=True)
class ExportHead:
    """Everything an export says besides its rows."""

    account_id: int
    user_id: int  # the account's customer
    account_name: str
    account_type: str
    account_number: str | None  # the bank's account number, as OBP gives it
    number_masked: str
    currency: str
    bank_name: str
    bank_code: str
    bic: str | None
    country: str
    date_from: date
    date_to: date
    booked_only: bool
    figures: StatementFigures
    reconciled: bool | None  # the sync's check against the bank (history_views)
    created_at: datetime  # the one value that differs between two exports of a period
    locale: str  # ru tg uz en
    # NBT's official TJS per unit of a foreign currency: the rate in force on `date_from`
    # and every later publication up to `date_to` (empty for a TJS account or no rates).
    prices: tuple[tuple[date, Decimal], ...] = ()

    @property
    def account_ref(self) -> str:
        """The account's identifier in a file: its number, else its masked number."""
        return self.account_number or self.number_masked


async def load_head(
    session: AsyncSession,
    account_id: int,
    date_from: date,
    date_to: date,
    *,
    booked_only: bool,
    created_at: datetime,
    locale: str,
) -> ExportHead | None:
    """The head of an export, or None when there is no such account. Whether the caller
    may read the account is the caller's decision (it passes only ids it may read)."""
    stmt = (
        select(
            ACCOUNTS.c.user_id,
            ACCOUNTS.c.name,
            ACCOUNTS.c.type,
            ACCOUNTS.c.number,
            ACCOUNTS.c.number_masked,
            ACCOUNTS.c.currency,
            INSTITUTIONS.c.name,
            INSTITUTIONS.c.code,
            INSTITUTIONS.c.bic,
            INSTITUTIONS.c.country,
        )
        .join(INSTITUTIONS, INSTITUTIONS.c.id == ACCOUNTS.c.institution_id)
        .where(ACCOUNTS.c.id == account_id)
    )
    found = (await session.execute(stmt)).first()
    if found is None:
        return None
    user_id, name, type_, number, masked, currency, bank, code, bic, country = found
    figures = await statement_figures(
        session, account_id, date_from, date_to, booked_only=booked_only
    )
    reconciled = await period_reconciled(session, account_id, date_to, as_of=None)
    prices = await _official_prices(session, currency, date_from, date_to)
    return ExportHead(
        account_id=account_id,
        user_id=user_id,
        account_name=name,
        account_type=type_,
        account_number=number,
        number_masked=masked,
        currency=currency,
        bank_name=bank,
        bank_code=code,
        bic=bic,
        country=country,
        date_from=date_from,
        date_to=date_to,
        booked_only=booked_only,
        figures=figures,
        reconciled=reconciled,
        created_at=created_at,
        locale=locale,
        prices=prices,
    )


async def _official_prices(
    session: AsyncSession, currency: str, date_from: date, date_to: date
) -> tuple[tuple[date, Decimal], ...]:
    if currency == rates.HOME:
        return ()
    first = await rates.rate_on(session, currency, date_from)
    later = await rates.series(
        session, currency, rates.HOME, date_from + timedelta(1), date_to, source=rates.NBT
    )
    found = ([(first.on_date, first.rate)] if first else []) + [(r.on_date, r.rate) for r in later]
    return tuple(found)


def rows_query(
    account_id: int, date_from: date, date_to: date, *, booked_only: bool
) -> Select[Any]:
    """The period's rows in the running balance's order (also what bench/ reads raw)."""
    stmt = (
        select(
            TX.c.id,
            TX.c.external_id,
            TX.c.status,
            TX.c.booking_date,
            TX.c.value_date,
            TX.c.booked_at,
            TX.c.amount_minor,
            TX.c.balance_after_minor,
            TX.c.type,
            TX.c.description,
            TX.c.counterparty_name,
            TX.c.counterparty_account,
            TX.c.counterparty_bank,
            TX.c.merchant_name,
            effective_category(TX),
        )
        .where(
            TX.c.account_id == account_id,
            TX.c.booking_date.between(date_from, date_to),
            exported(account_id),
        )
        .order_by(TX.c.booking_date, TX.c.booked_at.asc().nulls_last(), TX.c.id)
    )
    if booked_only:
        stmt = stmt.where(TX.c.status == "BOOKED")
    return stmt


async def stream_rows(session: AsyncSession, head: ExportHead) -> AsyncIterator[ExportRow]:
    """The period's rows, oldest first, with the running balance after each booked one:
    the bank's where it sent one, else carried on from the statement's opening balance."""
    stmt = rows_query(head.account_id, head.date_from, head.date_to, booked_only=head.booked_only)
    running = head.figures.opening.minor
    result = await session.stream(stmt.execution_options(yield_per=BATCH))
    async for r in result:
        balance = r[7]
        if r[2] == "BOOKED":
            running = int(balance) if balance is not None else running + int(r[6])
            balance = running
        yield ExportRow(
            int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6]),
            None if balance is None else int(balance),
            r[8], r[9], r[10], r[11], r[12], r[13],
            None if r[14] is None else canonical(r[14]),
        )  # fmt: skip
