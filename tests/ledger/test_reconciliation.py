"""The ledger proves itself against the bank: the day-by-day chain check."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import reconciliation
from ledger.models import Account, SyncRun, Transaction, table
from ledger.money import Money
from ledger.reconciliation import Day, check_account, latest, reconcile, record
from ledger.revisions import remove, unlisted, write_transactions

from .factories import connected_account

START = date(2026, 1, 1)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
TX = table(Transaction)
ACCOUNTS = table(Account)
# A row: (booking day, amount, balance after or None), in the bank's own booking order.
Row = tuple[date, int, int | None]
Chained = tuple[date, int, int]  # a row of a generated chain: it always has its balance


def _days(rows: Sequence[Row]) -> list[Day]:
    """The `Day`s of rows, in any order within a day: what the ledger's SQL computes."""
    by_day: dict[date, list[Row]] = {}
    for row in rows:
        by_day.setdefault(row[0], []).append(row)
    days = []
    for day in sorted(by_day):
        items = by_day[day]
        opening = Counter(b - a for _, a, b in items if b is not None)
        opening.subtract(Counter(b for _, _, b in items if b is not None))
        days.append(
            Day(
                day=day,
                total_minor=sum(a for _, a, _ in items),
                rows=len(items),
                with_balance=sum(1 for *_, b in items if b is not None),
                surplus={v: n for v, n in opening.items() if n},
            )
        )
    return days


@st.composite
def chains(draw: st.DrawFn) -> tuple[int, list[Chained]]:
    """(opening balance, rows of a clean chain): days with gaps, 1-6 nonzero rows each."""
    balance = opening = draw(st.integers(-(10**12), 10**12))
    rows: list[Chained] = []
    day = START
    for _ in range(draw(st.integers(1, 12))):
        day += timedelta(days=draw(st.integers(1, 40)))
        for _ in range(draw(st.integers(1, 6))):
            amount = draw(st.integers(-(10**9), 10**9).filter(bool))
            balance += amount
            rows.append((day, amount, balance))
    return opening, rows


def _shuffled_within_days(data: st.DataObject, rows: Sequence[Row]) -> list[Row]:
    return data.draw(st.permutations(rows))  # grouping by day: any order is one within days


@given(chains(), st.data())
def test_a_clean_chain_is_always_reconciled_in_any_order(
    chain: tuple[int, list[Chained]], data: st.DataObject
) -> None:
    opening, rows = chain
    bank = rows[-1][2]
    result = reconcile(_days(_shuffled_within_days(data, rows)), bank, None)
    assert result.reconciled
    assert (result.difference_minor, result.first_day) == (0, None)
    assert result.ledger_booked_minor == bank
    assert result.implied_opening_minor == opening


@given(chains(), st.data())
def test_a_dropped_row_is_located_to_its_day(
    chain: tuple[int, list[Chained]], data: st.DataObject
) -> None:
    _, rows = chain
    if len(rows) < 2:
        return
    # Not the very first row: a ledger without it is a ledger that starts later.
    index = data.draw(st.integers(1, len(rows) - 1))
    dropped = rows[index]
    kept = rows[:index] + rows[index + 1 :]
    result = reconcile(_days(_shuffled_within_days(data, kept)), rows[-1][2], None)
    assert not result.reconciled
    assert result.first_day is not None
    assert result.first_day <= dropped[0]
    # As close as the data allows: no row lies between the day named and the dropped one.
    assert not any(result.first_day < day < dropped[0] for day, *_ in kept)


@given(chains(), st.data())
def test_a_changed_amount_breaks_the_chain_on_its_day(
    chain: tuple[int, list[Chained]], data: st.DataObject
) -> None:
    _, rows = chain
    if len(rows) < 2:
        return
    # Not the very first row: its amount only moves the opening of a ledger starting there.
    index = data.draw(st.integers(1, len(rows) - 1))
    day, amount, balance = rows[index]
    delta = data.draw(st.integers(-(10**6), 10**6).filter(bool))
    changed = [*rows[:index], (day, amount + delta, balance), *rows[index + 1 :]]
    result = reconcile(_days(_shuffled_within_days(data, changed)), rows[-1][2], None)
    assert not result.reconciled
    assert result.first_day is not None and result.first_day <= day


@given(chains(), st.integers(-(10**6), 10**6))
def test_without_balances_the_implied_opening_must_stay_put(
    chain: tuple[int, list[Chained]], error: int
) -> None:
    opening, rows = chain
    bare: list[Row] = [(day, amount, None) for day, amount, _ in rows]
    bank = opening + sum(amount for _, amount, _ in rows)
    first = reconcile(_days(bare), bank, None)
    assert first.reconciled and first.implied_opening_minor == opening
    later = reconcile(_days(bare), bank + error, first.implied_opening_minor)
    assert later.reconciled == (error == 0)
    assert later.difference_minor == error
    assert later.ledger_booked_minor == bank


def test_a_day_that_ends_where_it_began_carries_the_balance() -> None:
    rows: list[Row] = [
        (START, 500, 1_500),
        (START + timedelta(1), 200, 1_700),
        (START + timedelta(1), -200, 1_500),
        (START + timedelta(2), -1_000, 500),
    ]
    assert reconcile(_days(rows), 500, None).reconciled
    broken = [*rows[:3], (START + timedelta(2), -1_000, 600)]
    assert reconcile(_days(broken), 600, None).first_day == START + timedelta(1)


# --- against the database -------------------------------------------------------------


async def _store(
    sessions: async_sessionmaker[AsyncSession], rows: list[Row], *, with_balances: bool = True
) -> tuple[int, int, int]:
    """Store rows as booked transactions of a fresh account: (connection, account, run)."""
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        runs = table(SyncRun)
        run = (
            await s.execute(
                insert(runs).values(connection_id=conn, status="SUCCEEDED").returning(runs.c.id)
            )
        ).scalar_one()
        stored: list[dict[str, Any]] = [
            {
                "connection_id": conn,
                "external_id": f"tx-{i}",
                "account_id": account,
                "status": "BOOKED",
                "booking_date": day,
                "booked_at": datetime.combine(day, datetime.min.time(), UTC) + timedelta(minutes=i),
                "amount_minor": amount,
                "currency": "TJS",
                "balance_after_minor": balance if with_balances else None,
                "type": "TRANSFER",
            }
            for i, (day, amount, balance) in enumerate(rows)
        ]
        await write_transactions(s, stored, run_id=run, links=(), now=datetime.now(UTC))
    return conn, account, run


async def test_the_database_check_locates_a_row_the_ledger_lost(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows: list[Row] = []
    balance = 10_000
    for i in range(60):
        amount = (-1) ** i * (100 + 7 * i)
        balance += amount
        rows.append((START + timedelta(days=i // 3), amount, balance))
    _, account, run = await _store(sessions, rows)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    async with sessions.begin() as s:
        clean = await check_account(s, account, balance)
        assert clean.reconciled and clean.ledger_booked_minor == balance
        assert reconcile(_days(rows), balance, None) == clean
        await record(s, run, account, clean, now=now)
        lost = rows[31]  # booked on day 10, the middle row of three
        at = datetime.combine(lost[0], datetime.min.time(), UTC) + timedelta(minutes=31)
        gone = await unlisted(s, account, since=at, until=at, listed=set())
        await remove(s, account, gone, run_id=run, now=now)
        broken = await check_account(s, account, balance)
        await record(s, run, account, broken, now=now + timedelta(minutes=1))
    assert (broken.reconciled, broken.first_day) == (False, lost[0])
    assert broken.difference_minor == lost[1]
    async with sessions() as s:
        shown = await latest(s, [account, account + 1])
    assert set(shown) == {account}
    assert shown[account].reconciled is False
    assert shown[account].first_day == lost[0]
    assert shown[account].difference == Money(lost[1], "TJS")
    assert shown[account].bank_booked == Money(balance, "TJS")


async def test_the_database_check_without_balances_compares_with_the_last_check(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rows: list[Row] = [(START + timedelta(days=i), 1_000 + i, None) for i in range(10)]
    bank = 50_000 + sum(a for _, a, _ in rows)
    _, account, run = await _store(sessions, rows, with_balances=False)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    async with sessions.begin() as s:
        first = await check_account(s, account, bank)
        assert first.reconciled and first.implied_opening_minor == 50_000
        await record(s, run, account, first, now=now)
        assert (await check_account(s, account, bank)).reconciled
        later = await check_account(s, account, bank + 1_234)
    assert (later.reconciled, later.difference_minor) == (False, 1_234)


@pytest.mark.parametrize("seed", range(6))
async def test_the_days_read_from_the_database_are_the_rows_days(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    """`_days` (on SQLite grouped as the rows stream, on PostgreSQL in SQL) and the SQL
    grouping give the oracle's days of the counted rows: booked, live, this account's;
    with and without balances, several rows a value, days that cancel out."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for _ in range(rng.randint(1, 120)):
        day = START + timedelta(days=rng.randint(0, 20))
        amount = rng.choice([-300, -5, 0, 5, 300, rng.randint(-(10**12), 10**12)])
        balance = rng.choice([None, 0, 100, 295, rng.randint(-(10**12), 10**12)])
        rows.append((day, amount, balance))
    _, account, _ = await _store(sessions, rows)
    dropped = set(rng.sample(range(len(rows)), len(rows) // 4))
    async with sessions.begin() as s:
        # Another account of the same customer, with rows on the same days: not counted.
        stored = (await s.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account))).one()
        copy = {**stored._asdict(), "external_id": "acc-2"}
        del copy["id"]
        other = (await s.execute(insert(ACCOUNTS).values(copy).returning(ACCOUNTS.c.id))).scalar()
        theirs = [
            {
                "connection_id": stored.connection_id,
                "external_id": f"other-{i}",
                "account_id": other,
                "status": "BOOKED",
                "booking_date": day,
                "amount_minor": amount,
                "currency": "TJS",
                "balance_after_minor": balance,
                "type": "TRANSFER",
            }
            for i, (day, amount, balance) in enumerate(rows[::2])
        ]
        await write_transactions(s, theirs, run_id=None, links=(), now=NOW)
        for i in dropped:  # not counted: pending, removed or replaced
            change: dict[str, Any] = rng.choice(
                [{"status": "PENDING"}, {"removed_at": NOW}, {"superseded_at": NOW}]
            )
            await s.execute(
                update(TX)
                .where(TX.c.account_id == account, TX.c.external_id == f"tx-{i}")
                .values(change)
            )
    counted = [row for i, row in enumerate(rows) if i not in dropped]
    async with sessions() as s:
        read = await reconciliation._days(s, account)
        in_sql = await reconciliation._days_in_sql(s, account)
    assert read == in_sql == _days(counted)


async def test_the_sqlite_days_read_walks_the_index_without_a_sort(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        connection = await s.connection()
        if connection.dialect.name != "sqlite":
            pytest.skip("SQLite's plan")
        sql = f"EXPLAIN QUERY PLAN {reconciliation._ROWS_SQL}"
        plan = await connection.exec_driver_sql(sql, (1, "BOOKED"))
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_transaction_account_booking" in details
    assert "TEMP B-TREE" not in details
