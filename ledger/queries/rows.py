"""Rows by id and by parent, one statement per batch: the dataloaders' queries.

Rows belonging to an account are returned only when that account is among `account_ids`,
so a loader can never hand out another customer's object, whatever id it is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import RowMapping, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import (
    Account,
    BalanceSnapshot,
    Card,
    Connection,
    Institution,
    ServicePayment,
    Transaction,
    Transfer,
    TransferEvent,
    table,
)
from ledger.queries import live
from ledger.queries.windows import rows

ACCOUNTS = table(Account)
BALANCES = table(BalanceSnapshot)
CARDS = table(Card)
INSTITUTIONS = table(Institution)
PAYMENTS = table(ServicePayment)
TX = table(Transaction)
TRANSFERS = table(Transfer)
TRANSFER_EVENTS = table(TransferEvent)


async def institutions_by_id(session: AsyncSession, ids: Sequence[int]) -> list[RowMapping]:
    return await rows(session, select(INSTITUTIONS).where(INSTITUTIONS.c.id.in_(ids)))


async def all_institutions(session: AsyncSession) -> list[RowMapping]:
    return await rows(
        session, select(INSTITUTIONS).order_by(INSTITUTIONS.c.name, INSTITUTIONS.c.id)
    )


async def accounts_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    visible = sorted(set(ids) & set(account_ids))
    if not visible:
        return []
    return await rows(session, select(ACCOUNTS).where(ACCOUNTS.c.id.in_(visible)))


async def _owned(
    session: AsyncSession, t: Table, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    if not account_ids:
        return []
    return await rows(session, select(t).where(t.c.id.in_(ids), t.c.account_id.in_(account_ids)))


async def cards_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    """Consent is given per account, so a card linked to no account is never served."""
    return await _owned(session, CARDS, ids, account_ids)


async def transfers_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    return await _owned(session, TRANSFERS, ids, account_ids)


async def service_payments_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    return await _owned(session, PAYMENTS, ids, account_ids)


async def transactions_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    """Superseded rows included: a booked row still links to the pending one it replaced."""
    return await _owned(session, TX, ids, account_ids)


async def transactions_by_service_payment(
    session: AsyncSession, payment_ids: Sequence[int], account_ids: Sequence[int]
) -> list[RowMapping]:
    if not account_ids:
        return []
    stmt = (
        select(TX)
        .where(TX.c.service_payment_id.in_(payment_ids), TX.c.account_id.in_(account_ids), live())
        .order_by(TX.c.id)
    )
    return await rows(session, stmt)


async def cards_by_account(session: AsyncSession, account_ids: Sequence[int]) -> list[RowMapping]:
    stmt = select(CARDS).where(CARDS.c.account_id.in_(account_ids)).order_by(CARDS.c.id)
    return await rows(session, stmt)


async def transfer_events(session: AsyncSession, transfer_ids: Sequence[int]) -> list[RowMapping]:
    stmt = (
        select(TRANSFER_EVENTS)
        .where(TRANSFER_EVENTS.c.transfer_id.in_(transfer_ids))
        .order_by(TRANSFER_EVENTS.c.at, TRANSFER_EVENTS.c.id)
    )
    return await rows(session, stmt)


async def latest_balances(session: AsyncSession, account_ids: Sequence[int]) -> list[RowMapping]:
    """The newest snapshot of each balance type of each account."""
    ranked = select(
        BALANCES,
        func.row_number()
        .over(
            partition_by=(BALANCES.c.account_id, BALANCES.c.type),
            order_by=(BALANCES.c.as_of.desc(), BALANCES.c.id.desc()),
        )
        .label("rank"),
    ).where(BALANCES.c.account_id.in_(account_ids))
    newest = ranked.subquery()
    stmt = (
        select(*(newest.c[c.name] for c in BALANCES.c))
        .where(newest.c.rank == 1)
        .order_by(newest.c.account_id, newest.c.type)
    )
    return await rows(session, stmt)


async def account_upstreams(session: AsyncSession, account_ids: Sequence[int]) -> list[RowMapping]:
    """For each account: its upstream id and its connection's provider, URL, bank id and
    encrypted credentials (what it takes to ask the bank live)."""
    if not account_ids:
        return []
    conns = table(Connection)
    return await rows(
        session,
        select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.external_id,
            ACCOUNTS.c.connection_id,
            conns.c.provider,
            conns.c.base_url,
            conns.c.bank_id,
            conns.c.credentials_encrypted,
        )
        .join(conns, conns.c.id == ACCOUNTS.c.connection_id)
        .where(ACCOUNTS.c.id.in_(sorted(set(account_ids))), conns.c.status != "PURGED"),
    )
