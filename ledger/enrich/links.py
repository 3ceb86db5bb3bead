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
from ledger.enrich.candidates import Candidate, candidates, user_of, within
from ledger.models import Account, Transaction, table
from ledger.types import utcnow

ACCOUNTS = table(Account)
TX = table(Transaction)
# One read for both rules: the wider of their windows.
_MARGIN = max(duplicates.WINDOW_DAYS, own_transfers.WINDOW_DAYS)


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
    user_id: int | None = None,
) -> Linked:
    """Link what the rules find around `[date_from, date_to]` involving `account_id`
    (whose customer is `user_id`, read from the account when not given: a sync knows it).

    Both rules look at the customer's rows around those days: one read serves both (the
    wider margin, each rule taking its own days of it). The duplicates it links are then
    applied to the rows read, as a second read would find them; should one of them have
    been linked or dismissed meanwhile, the rows are read again instead."""
    now = now or utcnow()
    if user_id is None:
        user_id = await user_of(session, account_id)
    if user_id is None:
        return Linked()

    async def read() -> list[Candidate]:
        return await candidates(session, user_id, date_from, date_to, margin_days=_MARGIN)

    rows = await read()
    nearby = within(rows, date_from, date_to, margin_days=duplicates.WINDOW_DAYS)
    found = duplicates.matches(nearby, focus={r.id for r in nearby if r.account_id == account_id})
    stored = await duplicates.link(session, found, now=now)
    if len(stored) < len(found):
        rows = await read()
    elif stored:
        originals = {m.duplicate_id: m.original_id for m in stored}
        rows = [
            r._replace(duplicate_of_id=originals[r.id]) if r.id in originals else r for r in rows
        ]
    nearby = within(rows, date_from, date_to, margin_days=own_transfers.WINDOW_DAYS)
    paired = await own_transfers.detect(session, nearby, account_id, date_to, now=now)
    return Linked(len(stored), paired)


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
