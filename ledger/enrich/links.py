"""Links between stored rows: duplicates first (`duplicates`), then moves between the
customer's own accounts (`own_transfers`), so a duplicate copy is never paired as a leg.

`detect_links` runs after each committed sync page (connectors/sync.py) over the page's
days; `relink` runs the same rules on demand over everything one customer (or everyone)
has, e.g. after the rules changed (`alif-graph links detect`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich import duplicates, own_transfers
from ledger.models import Account, Transaction, table
from ledger.types import utcnow

ACCOUNTS = table(Account)
TX = table(Transaction)


@dataclass(frozen=True, slots=True)
class Linked:
    duplicates: int = 0
    internal_transfers: int = 0

    def __add__(self, other: Linked) -> Linked:
        return Linked(
            self.duplicates + other.duplicates,
            self.internal_transfers + other.internal_transfers,
        )


async def detect_links(
    session: AsyncSession,
    account_id: int,
    date_from: date,
    date_to: date,
    *,
    now: datetime | None = None,
) -> Linked:
    """Link what the rules find around `[date_from, date_to]` involving `account_id`."""
    now = now or utcnow()
    found = await duplicates.detect(session, account_id, date_from, date_to, now=now)
    paired = await own_transfers.detect(session, account_id, date_from, date_to, now=now)
    return Linked(found, paired)


async def relink(
    session: AsyncSession, *, user_id: int | None = None, now: datetime | None = None
) -> Linked:
    """The rules over every account (of `user_id`, or of everyone), over each account's
    whole booked span. Idempotent: what is linked stays linked."""
    stmt = (
        select(TX.c.account_id, func.min(TX.c.booking_date), func.max(TX.c.booking_date))
        .join(ACCOUNTS, ACCOUNTS.c.id == TX.c.account_id)
        .group_by(TX.c.account_id)
        .order_by(TX.c.account_id)
    )
    if user_id is not None:
        stmt = stmt.where(ACCOUNTS.c.user_id == user_id)
    total = Linked()
    for account_id, first, last in (await session.execute(stmt)).all():
        total += await detect_links(session, account_id, first, last, now=now)
    return total
