"""The rows duplicate and own-transfer detection look at: one customer's live
transactions over a few days, with the account facts the rules compare. One statement,
read once for both rules (`ledger.enrich.links`)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import date, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Date, bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import sqlite_driver
from ledger.models import Account, Transaction, table
from ledger.queries import live

ACCOUNTS = table(Account)
TX = table(Transaction)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


class Candidate(NamedTuple):
    """A tuple, not a frozen dataclass: a page's read builds tens of thousands of these,
    and a tuple is built from the fetched row in one C call (a dataclass sets each field)."""

    id: int
    account_id: int
    connection_id: int
    external_id: str
    booking_date: date
    amount_minor: int
    currency: str
    type: str
    description: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    merchant_name: str | None
    card_external_id: str | None
    transfer_external_id: str | None
    duplicate_of_id: int | None
    not_duplicate: bool
    internal_transfer_leg_id: int | None
    # The account's own facts.
    account_number: str | None
    account_masked: str
    account_currency: str

    @property
    def payee(self) -> str | None:
        """Who was paid (or paid), normalized: case, spaces and punctuation do not count."""
        name = self.merchant_name or self.counterparty_name
        if not name:
            return None
        return _NOT_WORD.sub("", name.casefold()) or None

    def names_account(self, other: Candidate) -> bool:
        """Whether this row's counterparty account is `other`'s account."""
        theirs = self.counterparty_account
        return theirs is not None and theirs in (other.account_number, other.account_masked)


async def user_of(session: AsyncSession, account_id: int) -> int | None:
    stmt = select(ACCOUNTS.c.user_id).where(ACCOUNTS.c.id == account_id)
    found: int | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


_QUERY = (
    select(
        TX.c.id,
        TX.c.account_id,
        TX.c.connection_id,
        TX.c.external_id,
        TX.c.booking_date,
        TX.c.amount_minor,
        TX.c.currency,
        TX.c.type,
        TX.c.description,
        TX.c.counterparty_name,
        TX.c.counterparty_account,
        TX.c.merchant_name,
        TX.c.card_external_id,
        TX.c.transfer_external_id,
        TX.c.duplicate_of_id,
        TX.c.not_duplicate_at.is_not(None),
        TX.c.internal_transfer_leg_id,
        ACCOUNTS.c.number,
        ACCOUNTS.c.number_masked,
        ACCOUNTS.c.currency,
    )
    .join(ACCOUNTS, ACCOUNTS.c.id == TX.c.account_id)
    .where(
        ACCOUNTS.c.user_id == bindparam("user_id"),
        live(),
        TX.c.booking_date.between(bindparam("low", type_=Date), bindparam("high", type_=Date)),
    )
    .order_by(TX.c.id)
)
_COMPILED = _QUERY.compile(dialect=sqlite.dialect(paramstyle="qmark"))
assert tuple(_COMPILED.positiontup or ()) == ("user_id", "low", "high")
# SQLite reads without the ORDER BY and the rows are sorted here: SQLite sorted them in a
# temporary b-tree holding every row of the read at once (8 MiB at 19,000 rows).
_SQLITE = str(_QUERY.order_by(None).compile(dialect=sqlite.dialect(paramstyle="qmark")))
_ID = itemgetter(0)


async def candidates(
    session: AsyncSession, user_id: int, date_from: date, date_to: date, *, margin_days: int
) -> list[Candidate]:
    """The customer's live rows booked in `[date_from - margin, date_to + margin]`.

    On SQLite straight through the driver, as `ledger.writes.lookup` does: a page's read
    is thousands of rows, and SQLAlchemy's row processing cost more than the read."""
    low, high = date_from - timedelta(days=margin_days), date_to + timedelta(days=margin_days)
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        found = await session.execute(_QUERY, {"user_id": user_id, "low": low, "high": high})
        return list(map(Candidate._make, found.all()))
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection  # aiosqlite's; the read is one trip to its thread
    params = (user_id, low.isoformat(), high.isoformat())
    return await sqlite_driver.on_thread(driver, _read, params)


def _read(db: sqlite3.Connection, params: tuple[int, str, str]) -> list[Candidate]:
    """The rows as candidates in id order, each built as SQLite steps to it (a list of the
    fetched rows beside the candidates doubled the read's memory). A read covers a few
    accounts and days, so the values repeated on every row (dates, the account's facts,
    currency, type) are shared, not one string each per row: a dense history's read is
    tens of thousands of rows."""
    days: dict[str, date] = {}
    shared: dict[str | None, str | None] = {}
    share = shared.setdefault
    result = []
    for row in db.execute(_SQLITE, params):
        text = row[4]
        day = days.get(text)
        if day is None:
            day = days[text] = date.fromisoformat(text)
        result.append(
            Candidate._make(
                (
                    *row[:4],
                    day,
                    row[5],
                    share(row[6], row[6]),
                    share(row[7], row[7]),
                    *row[8:15],
                    bool(row[15]),
                    row[16],
                    share(row[17], row[17]),
                    share(row[18], row[18]),
                    share(row[19], row[19]),
                )
            )
        )
    result.sort(key=_ID)
    return result


def within(
    rows: Sequence[Candidate], date_from: date, date_to: date, *, margin_days: int
) -> list[Candidate]:
    """The rows booked in `[date_from - margin, date_to + margin]`: what `candidates` with
    that margin reads, out of a read with a wider one (in the same order)."""
    low, high = date_from - timedelta(days=margin_days), date_to + timedelta(days=margin_days)
    return [row for row in rows if low <= row.booking_date <= high]
