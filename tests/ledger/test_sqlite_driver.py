"""The SQLite engine's adapter (ledger/sqlite_driver.py): one trip to aiosqlite's thread per
statement, none for a rollback or commit with nothing open, and otherwise what the stock
adapter does (rows, row counts, generated ids, errors, transactions, streamed results)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.db import create_engine, session_factory

THINGS = Table(
    "things",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(THINGS.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The calls sent to aiosqlite's threads, by the name of what ran there."""
    seen: Counter[str] = Counter()
    send = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen[getattr(fn, "__name__", repr(fn))] += 1
        return await send(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    yield seen


async def test_a_read_is_one_trip_and_ending_it_none(engine: AsyncEngine, trips: Counter[str]):
    sessions = session_factory(engine)
    async with sessions() as session:  # warm the pool: opening a connection has its own trips
        await session.execute(text("SELECT 1"))
    trips.clear()

    async with sessions() as session:
        rows = (await session.execute(select(THINGS.c.id))).all()
        total = (await session.execute(select(func.count()).select_from(THINGS))).scalar_one()

    assert rows == [] and total == 0
    assert trips == Counter({"_run": 2})  # no cursor, fetch or close trips; no rollback


async def test_writes_commit_and_roll_back_and_report_what_they_did(
    engine: AsyncEngine, trips: Counter[str]
):
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        inserted = await session.execute(insert(THINGS).values(name="a"))
        assert inserted.inserted_primary_key == (1,)  # from the cursor's lastrowid
        many = await session.execute(insert(THINGS), [{"name": "b"}, {"name": "c"}])
        assert many.rowcount == 2
        returned = await session.execute(insert(THINGS).values(name="d").returning(THINGS.c.id))
        assert returned.scalar_one() == 4
    assert trips["commit"] == 1

    async with sessions.begin() as session:
        changed = await session.execute(
            update(THINGS).where(THINGS.c.id > 2).values(name=THINGS.c.name + "!")
        )
        assert changed.rowcount == 2
    # A write left uncommitted is rolled back when its session ends.
    trips.clear()
    async with sessions() as session:
        await session.execute(update(THINGS).where(THINGS.c.id == 1).values(name="z"))
    assert trips["rollback"] == 1
    async with sessions() as session:
        names = (await session.execute(select(THINGS.c.name).order_by(THINGS.c.id))).scalars()
        assert list(names) == ["a", "b", "c!", "d!"]


async def test_an_error_is_the_drivers_and_the_connection_goes_on(engine: AsyncEngine):
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await session.execute(insert(THINGS).values(name="a"))
    async with sessions() as session:
        with pytest.raises(IntegrityError, match="UNIQUE"):
            await session.execute(insert(THINGS).values(name="a"))
        await session.rollback()
        await session.execute(insert(THINGS).values(name="b"))
        await session.commit()
        names = (await session.execute(select(THINGS.c.name).order_by(THINGS.c.name))).scalars()
        assert list(names) == ["a", "b"]


async def test_streamed_results_still_come_in_chunks(engine: AsyncEngine):
    async with engine.begin() as conn:
        await conn.execute(insert(THINGS), [{"name": f"n{i}"} for i in range(250)])
    async with engine.connect() as conn:
        stream = await conn.stream(select(THINGS.c.id).order_by(THINGS.c.id))
        ids = [row.id async for row in stream]
    assert ids == list(range(1, 251))
