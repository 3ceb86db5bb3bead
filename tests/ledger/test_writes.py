from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.models import Transaction
from ledger.money import Money, format_minor
from ledger.queries import sum_minor
from ledger.writes import upsert

from .factories import connected_account

TABLE = Transaction.__table__


def _rows(conn: int, account: int, n: int, *, amount: str = "-12.50") -> list[dict]:
    return [
        {
            "connection_id": conn,
            "external_id": f"tx-{i}",
            "account_id": account,
            "status": "BOOKED",
            "booking_date": date(2026, 1, 1 + i % 28),
            "amount_minor": Money.parse(amount, "TJS").minor - i,
            "currency": "TJS",
            "type": "CARD_PAYMENT",
            "description": f"Shohmansur bazaar #{i}",
        }
        for i in range(n)
    ]


async def _snapshot(session: AsyncSession) -> dict[str, tuple]:
    rows = await session.execute(
        select(Transaction.external_id, Transaction.updated_at, Transaction.amount_minor)
    )
    return {r[0]: (r[1], r[2]) for r in rows}


async def test_same_batch_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        first = await upsert(s, TABLE, _rows(conn, account, 50))
    assert (first.inserted, first.changed, first.unchanged) == (50, 0, 0)
    async with sessions() as s:
        before = await _snapshot(s)

    async with sessions.begin() as s:
        second = await upsert(s, TABLE, _rows(conn, account, 50))
    async with sessions() as s:
        after = await _snapshot(s)
        count = (await s.execute(select(func.count()).select_from(TABLE))).scalar_one()

    assert (second.inserted, second.changed, second.unchanged) == (0, 0, 50)
    assert count == 50
    assert after == before


async def test_changed_payload_updates_exactly_the_changed_rows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        await upsert(s, TABLE, _rows(conn, account, 10))
    async with sessions() as s:
        before = await _snapshot(s)

    rows = _rows(conn, account, 12)
    rows[3]["description"] = "Auchan Dushanbe Mall"
    rows[7]["amount_minor"] = -999
    async with sessions.begin() as s:
        result = await upsert(s, TABLE, rows)
    async with sessions() as s:
        after = await _snapshot(s)

    assert (result.inserted, result.changed, result.unchanged) == (2, 2, 8)
    moved = {k for k in before if after[k][0] != before[k][0]}
    assert moved == {"tx-3", "tx-7"}
    assert after["tx-7"][1] == -999


async def test_duplicate_identities_in_one_batch_collapse(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 5)
        result = await upsert(s, TABLE, rows + rows[:2])
    assert (result.inserted, result.changed, result.unchanged) == (5, 0, 2)


async def test_large_batch_is_chunked_under_the_parameter_cap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        result = await upsert(s, TABLE, _rows(conn, account, 5000))
    assert result.inserted == 5000


async def test_tenth_plus_twentieth_is_exactly_thirty_hundredths(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 2)
        rows[0]["amount_minor"] = Money.parse("0.10", "TJS").minor
        rows[1]["amount_minor"] = Money.parse("0.20", "TJS").minor
        await upsert(s, TABLE, rows)
    async with sessions() as s:
        total = (await s.execute(select(sum_minor(Transaction.amount_minor)))).scalar_one()
    assert isinstance(total, int)
    assert format_minor(total, "TJS") == "0.30"


async def test_a_naive_timestamp_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 1)
        rows[0]["booked_at"] = datetime(2026, 1, 1, 12, 0)  # no time zone: ambiguous
        with pytest.raises((ValueError, StatementError), match="naive datetime"):
            await upsert(s, TABLE, rows)
