"""On PostgreSQL a statement's figures read its period, not the account's history: the
opening balance and the last booked row are one end of the booking index each, however
many years lie before the period (with the table's statistics, as autovacuum keeps
them; a duplicate check planned as an anti-join hashed every row of the account first),
and the sessions run without JIT, whose compilation cost more than the period's sums."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.models import Transaction, table
from ledger.queries.statements import statement_figures

from .factories import connected_account
from .pg_plans import rows_read

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

TX = table(Transaction)
START = date(2016, 1, 1)
PER_DAY = 8
DAYS = 3650  # ten years of history before the statement's days


async def _history(session: AsyncSession) -> tuple[int, list[dict[str, Any]]]:
    conn, account = await connected_account(session)
    now, balance, rows = datetime.now(UTC), 0, []
    for i in range(DAYS * PER_DAY):
        day = START + timedelta(i // PER_DAY)
        balance += 100 + i % 7
        rows.append(
            {"connection_id": conn, "external_id": f"t{i}", "account_id": account,
             "status": "BOOKED", "booking_date": day, "value_date": day,
             "booked_at": datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=i % 8),
             "amount_minor": 100 + i % 7, "currency": "TJS", "balance_after_minor": balance,
             "type": "CARD_PAYMENT", "payload_hash": "-", "created_at": now, "updated_at": now}
        )  # fmt: skip
    await session.execute(insert(TX), rows)
    return account, rows


async def test_the_figures_read_the_period_whatever_the_history_before_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        account, rows = await _history(s)
        # A copy of the period's last row, on the same account: the statement leaves it out.
        original = (await s.execute(text("SELECT max(id) FROM ledger_transaction"))).scalar()
        await s.execute(
            insert(TX),
            dict(rows[-1], external_id="copy", duplicate_of_id=original, balance_after_minor=None),
        )
    async with sessions() as s:  # as autovacuum leaves a table: with its statistics
        await s.execute(text("ANALYZE ledger_transaction"))
        await s.commit()
    first, last = START + timedelta(DAYS - 5), START + timedelta(DAYS - 1)
    async with sessions.begin() as s:
        connection = await s.connection()
        statements: list[tuple[str, Any]] = []

        def seen(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
            if "FROM ledger_transaction" in statement:
                statements.append((statement, params))

        event.listen(connection.sync_connection, "before_cursor_execute", seen)
        figures = await statement_figures(s, account, first, last, booked_only=True)
        event.remove(connection.sync_connection, "before_cursor_execute", seen)
        assert (await s.execute(text("SHOW jit"))).scalar() == "off"
        driver: Any = (await connection.get_raw_connection()).driver_connection
        reads = []
        for statement, params in statements:
            found = await driver.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *params)
            plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
            reads.append(rows_read(plan, "ledger_transaction"))
    period = [r for r in rows if first <= r["booking_date"] <= last]
    assert figures.count == len(period)  # the copy left out
    assert figures.closing.minor == period[-1]["balance_after_minor"]
    assert figures.opening.minor == period[0]["balance_after_minor"] - period[0]["amount_minor"]
    # Each statement reads about the period's rows (and its edges), never the history's.
    assert len(reads) >= 3 and max(reads) <= 4 * len(period), reads
