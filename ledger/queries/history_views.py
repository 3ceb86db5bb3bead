"""Reads the API needs about sync history beside `ledger.reconciliation.latest`: the newest
sync run of each account's connection, and the check a period statement relies on. Each is
one statement, for a dataloader or a statement.

`ledger.reconciliation` owns checking and recording reconciliations; this module only reads
the rows it records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, AccountReconciliation, SyncRun, table
from ledger.queries import bank_day_start

ACCOUNTS = table(Account)
RECONCILIATIONS = table(AccountReconciliation)
RUNS = table(SyncRun)


@dataclass(frozen=True, slots=True)
class SyncRunRow:
    """The newest sync run of an account's connection (RUNNING included)."""

    account_id: int
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None


async def last_sync_runs(session: AsyncSession, account_ids: Sequence[int]) -> list[SyncRunRow]:
    """For each account that has one, the newest run of its connection: one statement, an
    index lookup (connection, started_at) per account."""
    if not account_ids:
        return []
    newest = (
        select(RUNS.c.id)
        .where(RUNS.c.connection_id == ACCOUNTS.c.connection_id)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(1)
        .correlate(ACCOUNTS)
        .scalar_subquery()
    )
    stmt = (
        select(ACCOUNTS.c.id, RUNS.c.id, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at)
        .select_from(ACCOUNTS)
        .join(RUNS, RUNS.c.id == newest)
        .where(ACCOUNTS.c.id.in_(sorted(set(account_ids))))
    )
    return [SyncRunRow(*values) for values in (await session.execute(stmt)).all()]


async def period_reconciled(
    session: AsyncSession, account_id: int, date_to: date, *, as_of: datetime | None
) -> bool | None:
    """Whether the bank confirmed the account's booked rows up to the end of `date_to`
    (a Dushanbe bank day), by the latest reconciliation taken after that end (and, with
    `as_of`, no later than it). None when there is no such check: the account was never
    checked, or not since the period ended, so rows of the period could still arrive.

    A check that failed still confirms the period when the first day its chain breaks is
    after `date_to`: every booked row up to then agreed with the bank's running balance.
    """
    stmt = (
        select(RECONCILIATIONS.c.reconciled, RECONCILIATIONS.c.first_day)
        .where(
            RECONCILIATIONS.c.account_id == account_id,
            RECONCILIATIONS.c.checked_at >= bank_day_start(date_to + timedelta(1)),
        )
        .order_by(RECONCILIATIONS.c.checked_at.desc(), RECONCILIATIONS.c.id.desc())
        .limit(1)
    )
    if as_of is not None:
        stmt = stmt.where(RECONCILIATIONS.c.checked_at <= as_of)
    found = (await session.execute(stmt)).first()
    if found is None:
        return None
    reconciled, first_day = found
    return bool(reconciled) or (first_day is not None and first_day > date_to)
