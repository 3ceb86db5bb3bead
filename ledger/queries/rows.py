"""Rows by id and by parent, one statement per batch: the dataloaders' queries.

Rows belonging to an account are returned only when that account is among `account_ids`,
so a loader can never hand out another customer's object, whatever id it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, select
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
from ledger.queries.results import (
    ACCOUNT,
    ACCOUNT_UPSTREAM,
    BALANCE,
    CARD,
    INSTITUTION,
    SERVICE_PAYMENT,
    TRANSACTION,
    TRANSFER,
    TRANSFER_EVENT,
    AccountRow,
    AccountUpstreamRow,
    BalanceRow,
    CardRow,
    InstitutionRow,
    RowT,
    ServicePaymentRow,
    Shape,
    TransactionRow,
    TransferEventRow,
    TransferRow,
    fetch,
)

ACCOUNTS = table(Account)
BALANCES = table(BalanceSnapshot)
CARDS = table(Card)
INSTITUTIONS = table(Institution)
PAYMENTS = table(ServicePayment)
TX = table(Transaction)
TRANSFERS = table(Transfer)
TRANSFER_EVENTS = table(TransferEvent)


# The loaders' statements by id are built once, with expanding parameters for the ids and
# the readable accounts: building one per batch cost about as much as running it.
def _ids(name: str) -> Any:
    return bindparam(name, expanding=True)


def _by_id(t: Table, shape: Shape[Any], *, owned: bool) -> Select[Any]:
    """`shape`'s rows of `t` with the given ids (:ids), and when `owned` only those on the
    given accounts (:account_ids)."""
    conditions = [t.c.id.in_(_ids("ids"))]
    if owned:
        conditions.append(t.c.account_id.in_(_ids("account_ids")))
    return select(*shape.columns).where(*conditions)


_INSTITUTIONS_BY_ID = _by_id(INSTITUTIONS, INSTITUTION, owned=False)
_ACCOUNTS_BY_ID = _by_id(ACCOUNTS, ACCOUNT, owned=False)  # ids already narrowed to the readable
_CARDS_BY_ID = _by_id(CARDS, CARD, owned=True)
_TRANSFERS_BY_ID = _by_id(TRANSFERS, TRANSFER, owned=True)
_PAYMENTS_BY_ID = _by_id(PAYMENTS, SERVICE_PAYMENT, owned=True)
_TRANSACTIONS_BY_ID = _by_id(TX, TRANSACTION, owned=True)


async def institutions_by_id(session: AsyncSession, ids: Sequence[int]) -> list[InstitutionRow]:
    return await fetch(session, _INSTITUTIONS_BY_ID, INSTITUTION, {"ids": list(ids)})


async def all_institutions(session: AsyncSession) -> list[InstitutionRow]:
    stmt = select(*INSTITUTION.columns).order_by(INSTITUTIONS.c.name, INSTITUTIONS.c.id)
    return await fetch(session, stmt, INSTITUTION)


async def accounts_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[AccountRow]:
    visible = sorted(set(ids) & set(account_ids))
    if not visible:
        return []
    return await fetch(session, _ACCOUNTS_BY_ID, ACCOUNT, {"ids": visible})


async def _owned(
    session: AsyncSession,
    stmt: Select[Any],
    shape: Shape[RowT],
    ids: Sequence[int],
    account_ids: Sequence[int],
) -> list[RowT]:
    if not account_ids:
        return []
    return await fetch(session, stmt, shape, {"ids": list(ids), "account_ids": list(account_ids)})


async def cards_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[CardRow]:
    """Consent is given per account, so a card linked to no account is never served."""
    return await _owned(session, _CARDS_BY_ID, CARD, ids, account_ids)


async def transfers_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[TransferRow]:
    return await _owned(session, _TRANSFERS_BY_ID, TRANSFER, ids, account_ids)


async def service_payments_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[ServicePaymentRow]:
    return await _owned(session, _PAYMENTS_BY_ID, SERVICE_PAYMENT, ids, account_ids)


async def transactions_by_id(
    session: AsyncSession, ids: Sequence[int], account_ids: Sequence[int]
) -> list[TransactionRow]:
    """Superseded rows included: a booked row still links to the pending one it replaced."""
    return await _owned(session, _TRANSACTIONS_BY_ID, TRANSACTION, ids, account_ids)


async def transactions_by_service_payment(
    session: AsyncSession, payment_ids: Sequence[int], account_ids: Sequence[int]
) -> list[TransactionRow]:
    if not account_ids:
        return []
    stmt = (
        select(*TRANSACTION.columns)
        .where(TX.c.service_payment_id.in_(payment_ids), TX.c.account_id.in_(account_ids), live())
        .order_by(TX.c.id)
    )
    return await fetch(session, stmt, TRANSACTION)


async def cards_by_account(session: AsyncSession, account_ids: Sequence[int]) -> list[CardRow]:
    stmt = select(*CARD.columns).where(CARDS.c.account_id.in_(account_ids)).order_by(CARDS.c.id)
    return await fetch(session, stmt, CARD)


async def transfer_events(
    session: AsyncSession, transfer_ids: Sequence[int]
) -> list[TransferEventRow]:
    stmt = (
        select(*TRANSFER_EVENT.columns)
        .where(TRANSFER_EVENTS.c.transfer_id.in_(transfer_ids))
        .order_by(TRANSFER_EVENTS.c.at, TRANSFER_EVENTS.c.id)
    )
    return await fetch(session, stmt, TRANSFER_EVENT)


async def latest_balances(session: AsyncSession, account_ids: Sequence[int]) -> list[BalanceRow]:
    """The newest snapshot of each balance type of each account."""
    ranked = select(
        *BALANCE.columns,
        func.row_number()
        .over(
            partition_by=(BALANCES.c.account_id, BALANCES.c.type),
            order_by=(BALANCES.c.as_of.desc(), BALANCES.c.id.desc()),
        )
        .label("rank"),
    ).where(BALANCES.c.account_id.in_(account_ids))
    newest = ranked.subquery()
    stmt = (
        select(*BALANCE.from_(newest))
        .where(newest.c.rank == 1)
        .order_by(newest.c.account_id, newest.c.type)
    )
    return await fetch(session, stmt, BALANCE)


async def account_upstreams(
    session: AsyncSession, account_ids: Sequence[int]
) -> list[AccountUpstreamRow]:
    """For each account: what it takes to ask the bank live (see `AccountUpstreamRow`)."""
    if not account_ids:
        return []
    conns = table(Connection)
    stmt = (
        select(*ACCOUNT_UPSTREAM.columns)
        .join(conns, conns.c.id == ACCOUNTS.c.connection_id)
        .where(ACCOUNTS.c.id.in_(sorted(set(account_ids))), conns.c.status != "PURGED")
    )
    return await fetch(session, stmt, ACCOUNT_UPSTREAM)
