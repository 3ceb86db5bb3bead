"""Read queries over the ledger, shared by the API, exports and sync.

Every function takes the caller's session and plain arguments. Who may see what is decided
by the caller, which passes the account ids a request may read (`account_ids`). Lists and
sums leave out rows that no longer count (`live`): a pending transaction whose booked
successor has arrived, a booked one the bank no longer lists. Rows by id still include
them, with their revision history (`ledger.revisions.revisions_of`).

Results are typed: frozen rows whose amounts are `ledger.money.Money` (`results`), never
bare minor units.

Modules: `results` (the typed rows), `windows` (keyset slices), `rows` (rows by id, for
dataloaders), `pages` (filtered lists and counts), `statements` (period statements),
`spending` (spending insights).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, FromClause, Table, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, Transaction, table

ACCOUNTS = table(Account)
TX = table(Transaction)

# Tajik banks book in Dushanbe time; Tajikistan keeps UTC+5 all year (no DST), so a fixed
# offset is exact and needs no tz database. Date filters on timestamps use bank days.
BANK_TIMEZONE = timezone(timedelta(hours=5), "Asia/Dushanbe")


def sum_minor(column: Any) -> ColumnElement[int]:
    """SUM of a minor-units column as a 64-bit integer on both databases.

    PostgreSQL widens SUM(bigint) to numeric (a Decimal in Python); casting back keeps
    money integral end to end. An empty set sums to 0, not NULL.
    """
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def bank_day_start(day: date) -> datetime:
    """The first instant of a bank day, as an aware datetime."""
    return datetime.combine(day, time.min, BANK_TIMEZONE)


def live(t: Table | FromClause = TX) -> ColumnElement[bool]:
    """Transactions that count: not a pending row replaced by its booked successor, not a
    booked row the bank no longer lists (`ledger.revisions`)."""
    return and_(t.c.superseded_at.is_(None), t.c.removed_at.is_(None))


def effective_category(t: Table = TX) -> ColumnElement[str | None]:
    """A transaction's category, highest first: the customer's override, the customer's
    rule, the categorizer's verdict (ledger/enrich/), and for a row not enriched yet the
    bank's own key (`ledger.enrich.taxonomy.canonical` names its code)."""
    return func.coalesce(t.c.user_category, t.c.rule_category, t.c.auto_category, t.c.category)


async def visible_account_ids(
    session: AsyncSession, user_id: int, consented: Sequence[int] | None
) -> list[int]:
    """The customer's account ids, narrowed to the consented ones (None: all of them).
    An API request has them already: `ledger.consents.presented` reads them with its
    consent."""
    owned = await session.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.user_id == user_id))
    return readable_of(owned.scalars(), consented)


def readable_of(owned: Iterable[int], consented: Collection[int] | None) -> list[int]:
    """The one rule for which accounts a consent lets a request read: of the customer's
    `owned` account ids, the `consented` ones, or all of them when that is None; sorted."""
    if consented is None:
        return sorted(owned)
    return sorted(set(owned).intersection(consented))
