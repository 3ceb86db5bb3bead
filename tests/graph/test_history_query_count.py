"""Revisions and sync statuses are batched: their statements do not grow with the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.relay.ids import to_global_id
from ledger import revisions
from ledger.models import Account, AccountReconciliation, SyncRun, table

from .helpers import Api
from .ledger_data import LedgerData
from .test_history import as_incoming
from .test_query_count import reading, run

REVISIONS = """
query Page($first: Int!, $wallet: ID!) {
  transactions(first: $first, orderBy: BOOKING_DATE_ASC,
               filter: {accountIds: [$wallet], status: BOOKED}) {
    edges { node { id removedAt revisions { kind recordedAt amount { amount } } } }
  }
}
"""

SYNC_STATUS = """
query Page($first: Int!) {
  accounts(first: $first) {
    edges { node { id syncStatus { checkedAt reconciled difference { amount } lastRunStatus } } }
  }
}
"""


async def test_revisions_of_10_and_100_transactions_cost_the_same_statements(
    api: Api, ledger: LedgerData, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
):
    booked = [t for t in ledger.wallet.counted() if t["status"] == "BOOKED"]
    rows = [as_incoming(t, amount_minor=t["amount_minor"] + 1) for t in booked]
    async with sessions() as session, session.begin():
        await revisions.write_transactions(
            session, rows, run_id=None, links=(), now=datetime.now(UTC)
        )

    wallet = to_global_id("Account", ledger.wallet.id)
    small, _ = await run(api, engine, REVISIONS, first=10, wallet=wallet)
    large, page = await run(api, engine, REVISIONS, first=100, wallet=wallet)

    nodes = [e["node"] for e in page["transactions"]["edges"]]
    assert len(nodes) == 100
    assert sum(len(n["revisions"]) for n in nodes) == 100
    assert len(small) == len(large)
    assert reading(large, "transaction_revision") == 1


async def test_sync_status_of_10_and_100_accounts_cost_the_same_statements(
    api: Api, ledger: LedgerData, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
):
    checked = datetime(2025, 7, 1, tzinfo=UTC)
    accounts, recs = table(Account), table(AccountReconciliation)
    async with sessions() as session, session.begin():
        run_id = (
            await session.execute(
                insert(table(SyncRun))
                .values(
                    connection_id=ledger.wallet.connection_id,
                    status="SUCCEEDED",
                    started_at=checked,
                    finished_at=checked,
                    heartbeat_at=checked,
                )
                .returning(table(SyncRun).c.id)
            )
        ).scalar_one()
        new = [
            {
                "connection_id": ledger.wallet.connection_id,
                "external_id": f"extra-{i}",
                "institution_id": ledger.institution_id,
                "user_id": ledger.user_a,
                "type": "SAVINGS",
                "name": f"Pocket {i}",
                "number_masked": f"••••{i:04d}",
                "currency": "TJS",
                "payload_hash": "-",
            }
            for i in range(100)
        ]
        ids = (await session.execute(insert(accounts).returning(accounts.c.id), new)).scalars()
        await session.execute(
            insert(recs),
            [
                {
                    "sync_run_id": run_id,
                    "account_id": account_id,
                    "checked_at": checked + timedelta(seconds=n),
                    "currency": "TJS",
                    "bank_booked_minor": n,
                    "ledger_booked_minor": n,
                    "difference_minor": 0,
                    "reconciled": True,
                }
                for n, account_id in enumerate(list(ids))
            ],
        )

    small, _ = await run(api, engine, SYNC_STATUS, first=10)
    large, page = await run(api, engine, SYNC_STATUS, first=100)

    statuses = [e["node"]["syncStatus"] for e in page["accounts"]["edges"]]
    assert len(statuses) == 100
    assert sum(1 for s in statuses if s and s["lastRunStatus"] == "SUCCEEDED") == 97
    assert len(small) == len(large)
    assert reading(large, "account_reconciliation") == 1
