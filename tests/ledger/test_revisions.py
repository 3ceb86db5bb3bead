"""Booked history: changes and removals of booked rows leave revisions; statements can be
read as they were reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.models import Account, BalanceSnapshot, SyncRun, Transaction, table
from ledger.money import Money
from ledger.queries.pages import TransactionCriteria, transaction_count
from ledger.queries.statements import statement_figures
from ledger.revisions import (
    BOOKED_FACTS,
    CHANGED,
    REMOVED,
    RESTORED,
    remove,
    revisions_of,
    unlisted,
    write_transactions,
)

from .factories import connected_account

TX = table(Transaction)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LINKS = ("card_id",)


def _rows(conn: int, account: int, n: int, *, status: str = "BOOKED") -> list[dict[str, Any]]:
    """`n` booked rows, one a day from 2026-10-01, each with its running balance."""
    rows, balance = [], 100_000
    for i in range(n):
        amount = -(1_000 + 37 * i) if i % 3 else 5_000 + i
        balance += amount
        rows.append(
            {
                "connection_id": conn,
                "external_id": f"tx-{i}",
                "account_id": account,
                "status": status,
                "booking_date": date(2026, 10, 1) + timedelta(days=i),
                "booked_at": datetime(2026, 10, 1, 9, tzinfo=UTC) + timedelta(days=i),
                "amount_minor": amount,
                "currency": "TJS",
                "balance_after_minor": balance,
                "type": "CARD_PAYMENT",
                "description": f"purchase {i}",
                "counterparty_name": f"Shop {i}",
                "counterparty_account": f"••••{1000 + i}",
                "card_id": None,
            }
        )
    return rows


async def _run(session: AsyncSession, connection_id: int) -> int:
    runs = table(SyncRun)
    stmt = insert(runs).values(connection_id=connection_id, status="SUCCEEDED")
    stmt = stmt.returning(runs.c.id)
    return int((await session.execute(stmt)).scalar_one())


async def _write(
    sessions: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]], now: datetime
) -> Any:
    async with sessions.begin() as s:
        run = await _run(s, rows[0]["connection_id"])
        return await write_transactions(s, rows, run_id=run, links=LINKS, now=now)


@asynccontextmanager
async def _reads(session: AsyncSession) -> AsyncIterator[list[str]]:
    """Every SELECT the session sends, through SQLAlchemy or straight to the driver."""
    seen: list[str] = []
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.set_trace_callback(seen.append)
        yield seen
        await driver.set_trace_callback(None)
    else:

        def log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(connection.sync_connection, "before_cursor_execute", log)
        yield seen
        event.remove(connection.sync_connection, "before_cursor_execute", log)
    # Rows read back, not PostgreSQL's bulk path asking whether a sample of the page's
    # identities is stored (`ledger.bulk_pg`: a page of new rows is then copied in place).
    seen[:] = [
        s
        for s in seen
        if s.lstrip().upper().startswith("SELECT") and not s.startswith("SELECT EXISTS")
    ]


async def test_a_first_page_reads_nothing_back_and_a_resync_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        run = await _run(s, conn)
    rows = _rows(conn, account, 300)
    for expected_reads, expected in ((0, (300, 0, 0)), (1, (0, 0, 300))):
        async with sessions.begin() as s, _reads(s) as reads:
            result = await write_transactions(s, rows, run_id=run, links=LINKS, now=T0)
        assert (result.inserted, result.changed, result.unchanged) == expected
        assert result.revisions == []
        assert len(reads) == expected_reads, reads


@pytest.mark.parametrize("fact", BOOKED_FACTS)
async def test_a_changed_booked_fact_keeps_the_old_values_in_a_revision(
    sessions: async_sessionmaker[AsyncSession], fact: str
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 12)
    await _write(sessions, rows, T0)
    before = dict(rows[7])
    new_values: dict[str, Any] = {
        "status": "PENDING",
        "amount_minor": before["amount_minor"] - 1,
        "currency": "USD",
        "booking_date": before["booking_date"] + timedelta(days=1),
        "booked_at": before["booked_at"] + timedelta(seconds=1),
        "balance_after_minor": before["balance_after_minor"] + 1,
        "counterparty_name": "Someone else",
        "counterparty_account": "••••9999",
    }
    changed = [dict(r) for r in rows]
    changed[7][fact] = new_values[fact]
    later = T0 + timedelta(hours=1)
    result = await _write(sessions, changed, later)
    assert (result.changed, result.unchanged) == (1, 11)
    [revision] = result.revisions
    assert (revision.external_id, revision.kind, revision.fields) == ("tx-7", CHANGED, (fact,))
    async with sessions() as s:
        stored = (await s.execute(select(TX).where(TX.c.id == revision.transaction_id))).one()
        history = await revisions_of(s, [revision.transaction_id, 10**9])
    assert getattr(stored, fact) == new_values[fact]  # the ledger equals the bank
    [kept] = history[revision.transaction_id]
    assert set(history) == {revision.transaction_id}
    assert (kept.kind, kept.recorded_at, kept.status) == (CHANGED, later, "BOOKED")
    assert kept.amount == Money(before["amount_minor"], "TJS")
    assert kept.balance_after == Money(before["balance_after_minor"], "TJS")
    assert (kept.booking_date, kept.booked_at) == (before["booking_date"], before["booked_at"])
    assert (kept.counterparty_name, kept.counterparty_account, kept.description) == (
        "Shop 7",
        "••••1007",
        "purchase 7",
    )


async def test_descriptions_and_pending_rows_change_without_revisions(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    booked = _rows(conn, account, 4)
    pending = [{**r, "external_id": f"p-{i}", "status": "PENDING"} for i, r in enumerate(booked)]
    await _write(sessions, booked + pending, T0)
    renamed = [{**r, "description": "renamed"} for r in booked]
    moved = [{**r, "amount_minor": r["amount_minor"] - 5} for r in pending[:2]]
    now_booked = [{**r, "status": "BOOKED"} for r in pending[2:]]
    result = await _write(sessions, renamed + moved + now_booked, T0 + timedelta(hours=1))
    assert (result.changed, result.revisions) == (8, [])


async def test_two_accounts_may_carry_one_upstream_id(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, first = await connected_account(s)
        account = table(Account)
        second = (
            await s.execute(
                insert(account)
                .values(
                    connection_id=conn,
                    external_id="acc-2",
                    institution_id=1,
                    user_id=1,
                    type="CURRENT",
                    name="Second",
                    number_masked="••••0002",
                    currency="TJS",
                    payload_hash="-",
                )
                .returning(account.c.id)
            )
        ).scalar_one()
    legs = _rows(conn, first, 3) + [
        {**r, "amount_minor": -r["amount_minor"]} for r in _rows(conn, second, 3)
    ]
    for _ in range(2):  # and no sync flips one leg into the other account
        result = await _write(sessions, legs, T0)
    assert (result.unchanged, result.revisions) == (6, [])
    async with sessions() as s:
        stored = (await s.execute(select(TX.c.account_id, TX.c.amount_minor))).all()
    assert sorted(stored) == sorted((r["account_id"], r["amount_minor"]) for r in legs)


async def test_removed_rows_stop_counting_and_come_back_when_listed_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 20)
    await _write(sessions, rows, T0)
    since, until = rows[5]["booked_at"], rows[14]["booked_at"]
    # Only the window's rows are listed: those outside it are not judged.
    listed = {r["external_id"] for r in rows[5:15]} - {"tx-8", "tx-11"}
    removed_at = T0 + timedelta(hours=2)
    async with sessions.begin() as s:
        run = await _run(s, conn)
        gone = await remove(
            s,
            account,
            await unlisted(s, account, since=since, until=until, listed=listed),
            run_id=run,
            now=removed_at,
        )
    assert sorted((r.external_id, r.kind) for r in gone) == [("tx-11", REMOVED), ("tx-8", REMOVED)]
    criteria = TransactionCriteria(account_ids=[account])
    async with sessions() as s:
        assert await transaction_count(s, criteria) == 20 - 2
        touched = await s.execute(select(TX.c.external_id).where(TX.c.updated_at == removed_at))
        assert sorted(touched.scalars()) == ["tx-11", "tx-8"]
        history = await revisions_of(s, [r.transaction_id for r in gone])
    assert all([h.kind for h in history[r.transaction_id]] == [REMOVED] for r in gone)

    result = await _write(sessions, rows, removed_at + timedelta(hours=1))
    assert sorted((r.external_id, r.kind) for r in result.revisions) == [
        ("tx-11", RESTORED),
        ("tx-8", RESTORED),
    ]
    async with sessions() as s:
        assert await transaction_count(s, criteria) == 20
        removed = (await s.execute(select(TX.c.id).where(TX.c.removed_at.is_not(None)))).all()
    assert removed == []


async def test_revisions_are_append_only_in_a_schema_made_from_the_models(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 3)
    await _write(sessions, rows, T0)
    await _write(sessions, [{**rows[0], "amount_minor": 1}, *rows[1:]], T0 + timedelta(hours=1))
    for statement in (
        "UPDATE transaction_revision SET amount_minor = 0",
        "DELETE FROM transaction_revision",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with sessions.begin() as s:
                await s.execute(text(statement))


@pytest.mark.parametrize("booked_only", [True, False])
async def test_a_statement_reads_as_it_was_reported_whatever_the_bank_changed_since(
    sessions: async_sessionmaker[AsyncSession], booked_only: bool
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 40)  # 2026-10-01 .. 2026-11-09
    pending = [{**rows[3], "external_id": "p-1", "status": "PENDING", "amount_minor": -77}]
    await _write(sessions, rows + pending, T0)
    snapshots = table(BalanceSnapshot)

    async def snapshot(amount: int, fetched: datetime, hour: int) -> None:
        async with sessions.begin() as s:
            await s.execute(
                insert(snapshots).values(
                    account_id=account,
                    type="BOOKED",
                    amount_minor=amount,
                    currency="TJS",
                    as_of=datetime(2026, 11, 30, hour, tzinfo=UTC),
                    fetched_at=fetched,
                )
            )

    await snapshot(rows[-1]["balance_after_minor"], T0, 10)
    periods = [(date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 10, 10), date(2026, 11, 30))]

    async def figures(as_of: datetime | None) -> list[Any]:
        async with sessions() as s:
            return [
                await statement_figures(
                    s, account, start, end, booked_only=booked_only, as_of=as_of
                )
                for start, end in periods
            ]

    reported = await figures(None)
    reported_at = T0 + timedelta(minutes=30)
    later = reported_at + timedelta(days=1)
    # Since then the bank changed a booked amount (and the balances after it), stopped
    # listing another row, listed a new one, and the pending row was superseded.
    changed = [dict(r) for r in rows]
    changed[12]["amount_minor"] -= 500
    for r in changed[12:]:
        r["balance_after_minor"] -= 500
    new = {**rows[20], "external_id": "late", "amount_minor": -1, "balance_after_minor": None}
    await _write(sessions, [*changed, new], later)
    async with sessions.begin() as s:
        at = rows[25]["booked_at"]
        gone = await remove(
            s,
            account,
            await unlisted(s, account, since=at, until=at, listed=set()),
            run_id=None,
            now=later,
        )
        await s.execute(TX.update().where(TX.c.external_id == "p-1").values(superseded_at=later))
    await snapshot(changed[-1]["balance_after_minor"] - rows[25]["amount_minor"], later, 11)
    assert [r.external_id for r in gone] == ["tx-25"]
    assert await figures(None) != reported
    assert await figures(reported_at) == reported
    assert await figures(later) == await figures(None)
