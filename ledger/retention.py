"""Retention: purge a customer's fetched bank data once no consent needs it any more.

A customer's data is purged when none of their consents is usable and the last one ended
(revoked or expired) more than `window` ago. Consents, audit events and sync runs stay:
they are the record of what was allowed and done (kept at least five years, see
docs/consent.md). The connection stays as a tombstone without credentials.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.consents import AUTHORISED, AWAITING, EXPIRED, REVOKED
from ledger.models import (
    Account,
    BalanceSnapshot,
    Card,
    Connection,
    Consent,
    ServicePayment,
    SyncCursor,
    SyncIssueRow,
    SyncRun,
    Transaction,
    Transfer,
    TransferEvent,
    table,
)

CONSENTS = table(Consent)
CONNECTIONS = table(Connection)


async def due_customers(session: AsyncSession, *, now: datetime, window: timedelta) -> list[int]:
    """Customers with no usable consent whose last consent ended before `now - window`."""
    live = (
        select(CONSENTS.c.user_id)
        .where(CONSENTS.c.status.in_([AUTHORISED, AWAITING]), CONSENTS.c.expires_at > now)
        .distinct()
    )
    ended_at = func.max(func.coalesce(CONSENTS.c.revoked_at, CONSENTS.c.expires_at))
    query = (
        select(CONSENTS.c.user_id)
        .where(
            CONSENTS.c.user_id.not_in(live),
            CONSENTS.c.status.in_([REVOKED, EXPIRED, AUTHORISED, AWAITING]),
        )
        .group_by(CONSENTS.c.user_id)
        .having(ended_at < now - window)
    )
    # Rejected consents never granted access, so they neither keep data nor end a grant.
    candidates = set((await session.execute(query)).scalars())
    with_data = set(
        (
            await session.execute(
                select(CONNECTIONS.c.user_id).where(CONNECTIONS.c.status != "PURGED")
            )
        ).scalars()
    )
    return sorted(int(u) for u in candidates & with_data)


async def purge_customer(session: AsyncSession, user_id: int, *, now: datetime) -> int:
    """Delete everything fetched for the customer's connections; returns rows deleted."""
    connections = select(CONNECTIONS.c.id).where(CONNECTIONS.c.user_id == user_id)
    tx, transfers, runs = table(Transaction), table(Transfer), table(SyncRun)
    deleted = 0
    steps = [
        delete(tx).where(tx.c.connection_id.in_(connections)),
        delete(table(ServicePayment)).where(table(ServicePayment).c.connection_id.in_(connections)),
        delete(table(TransferEvent)).where(
            table(TransferEvent).c.transfer_id.in_(
                select(transfers.c.id).where(transfers.c.connection_id.in_(connections))
            )
        ),
        delete(transfers).where(transfers.c.connection_id.in_(connections)),
        delete(table(Card)).where(table(Card).c.connection_id.in_(connections)),
        delete(table(BalanceSnapshot)).where(
            table(BalanceSnapshot).c.account_id.in_(
                select(table(Account).c.id).where(table(Account).c.connection_id.in_(connections))
            )
        ),
        delete(table(Account)).where(table(Account).c.connection_id.in_(connections)),
        delete(table(SyncCursor)).where(table(SyncCursor).c.connection_id.in_(connections)),
        # Issues may quote upstream records; the runs' counters are kept.
        delete(table(SyncIssueRow)).where(
            table(SyncIssueRow).c.sync_run_id.in_(
                select(runs.c.id).where(runs.c.connection_id.in_(connections))
            )
        ),
    ]
    for statement in steps:
        deleted += int((await session.execute(statement)).rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(
        update(CONNECTIONS)
        .where(CONNECTIONS.c.user_id == user_id)
        .values(status="PURGED", credentials_encrypted=b"", updated_at=now)
    )
    return deleted


async def run(session: AsyncSession, *, now: datetime, window: timedelta) -> dict[int, int]:
    """Purge every customer that is due; returns rows deleted per customer."""
    return {
        user_id: await purge_customer(session, user_id, now=now)
        for user_id in await due_customers(session, now=now, window=window)
    }
