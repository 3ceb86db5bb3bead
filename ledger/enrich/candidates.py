"""The rows duplicate and own-transfer detection look at: one customer's live
transactions over a few days, with the account facts the rules compare. One statement,
read once for both rules (`ledger.enrich.links`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def candidates(
    session: AsyncSession,
    user_id: int,
    date_from: date,
    date_to: date,
    *,
    margin_days: int,
    account_ids: Sequence[int] | None = None,
) -> list[Candidate]:
    """The customer's live rows booked in `[date_from - margin, date_to + margin]`."""
    stmt = (
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
            ACCOUNTS.c.user_id == user_id,
            live(),
            TX.c.booking_date.between(
                date_from - timedelta(days=margin_days), date_to + timedelta(days=margin_days)
            ),
        )
        .order_by(TX.c.id)
    )
    if account_ids is not None:
        stmt = stmt.where(TX.c.account_id.in_(account_ids))
    return list(map(Candidate._make, (await session.execute(stmt)).all()))


def within(
    rows: Sequence[Candidate], date_from: date, date_to: date, *, margin_days: int
) -> list[Candidate]:
    """The rows booked in `[date_from - margin, date_to + margin]`: what `candidates` with
    that margin reads, out of a read with a wider one (in the same order)."""
    low, high = date_from - timedelta(days=margin_days), date_to + timedelta(days=margin_days)
    return [row for row in rows if low <= row.booking_date <= high]
