"""PostgreSQL reads of a page's stored rows probe the identity's index once per key, however
stale the planner's statistics: a first sync fills tables no ANALYZE has seen, and a join
planned from their empty-table statistics read every row of the connection for each page
(the lookups of `ledger.writes.lookup` and the bulk path's read of what it staged)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import bulk_pg, revisions, writes
from ledger.models import Transaction, Transfer, table

from .factories import connected_account
from .pg_plans import rows_read

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

TX = table(Transaction)
TRANSFERS = table(Transfer)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
STORED = 3000  # rows of the connection; a page asks for a few of them
ASKED = 40


async def _explain(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Any:
    """EXPLAIN ANALYZE of `statement` as SQLAlchemy sends it, run in the session's
    transaction (so it sees the session's temporary tables)."""
    connection = await session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    order = compiled.positiontup or []
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    sql = f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"
    found = await driver.fetchval(sql, *(params[name] for name in order))
    return json.loads(found)[0]["Plan"] if isinstance(found, str) else found[0]["Plan"]


def _transfer(conn: int, account: int, i: int) -> dict[str, Any]:
    return {
        "connection_id": conn,
        "external_id": f"tr-{i}",
        "account_id": account,
        "direction": "OUT",
        "amount_minor": 100 + i,
        "currency": "TJS",
        "rail": "CARD",
        "status": "COMPLETED",
        "initiated_at": T0,
        "payload_hash": "-",
    }


async def test_a_lookup_probes_each_key_not_the_connections_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        await s.execute(insert(TRANSFERS), [_transfer(conn, account, i) for i in range(STORED)])
    keys = [f"tr-{i}" for i in range(0, 2 * ASKED, 2)] + ["absent"]
    async with sessions() as s:
        found = await writes.lookup(
            s, TRANSFERS, {"connection_id": conn}, "external_id", keys, ("amount_minor",)
        )
        query = writes._lookup_unnest(TRANSFERS, ("connection_id",), "external_id", ("id",))
        plan = await _explain(s, query, {"connection_id": conn, "keys": keys})
    assert found == {f"tr-{i}": (100 + i,) for i in range(0, 2 * ASKED, 2)}
    assert rows_read(plan, "transfer") <= len(keys)  # about one per key, not 3000


async def test_the_bulk_path_reads_back_only_the_staged_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows = [
        {
            "connection_id": 0,
            "external_id": f"tx-{i}",
            "account_id": 0,
            "status": "BOOKED",
            "booking_date": T0.date(),
            "booked_at": T0,
            "amount_minor": -100 - i,
            "currency": "TJS",
            "type": "CARD_PAYMENT",
            "card_id": None,
        }
        for i in range(STORED)
    ]
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        for row in rows:
            row.update(connection_id=conn, account_id=account)
        await revisions.write_transactions(s, rows, run_id=None, links=("card_id",), now=T0)
    async with sessions.begin() as s:
        page = [dict(row, payload_hash="-", created_at=T0, updated_at=T0) for row in rows[:ASKED]]
        columns = tuple(page[0])
        dialect = s.get_bind().dialect
        watched = revisions._WATCHED
        plan = bulk_pg._plan(
            TX, columns, writes.TRANSACTION_IDENTITY, ("card_id",), watched, (), dialect
        )
        await s.execute(plan.create)
        await bulk_pg._copy(s, plan.stage, "pg_temp", columns, bulk_pg._records(plan, page))
        explained = await _explain(s, plan.stored, {})
        stored = (await s.execute(plan.stored)).all()
    assert sorted(row[1] for row in stored) == sorted(row["external_id"] for row in page)
    assert rows_read(explained, "ledger_transaction") <= ASKED  # not 3000
