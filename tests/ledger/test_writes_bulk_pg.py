"""PostgreSQL's bulk path (COPY into a staging table, one merge) against the multi-row path.

The same history of pages is written twice into the same empty ledger, once through each
path, and everything stored (rows, revisions) and every count must be equal: the bulk path
keeps exactly the multi-row path's semantics, for the text COPY has to carry, NULLs, maximal
lengths, duplicates within a page, links filled later, changes, removals and restorations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import bulk_pg, writes
from ledger.models import Card, ServicePayment, Transaction, TransactionRevision, metadata, table
from ledger.revisions import remove, write_transactions
from ledger.writes import upsert

from .factories import connected_account

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

TX = table(Transaction)
SP = table(ServicePayment)
REV = table(TransactionRevision)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LINKS = ("card_id",)
# What COPY must carry untouched: its own delimiters, escapes and NULL marker as text,
# quotes, non-ASCII letters, emoji and combining marks (PostgreSQL text cannot hold NUL).
AWKWARD = [
    "tab\there",
    "new\nline and\r\ncrlf",
    "back\\slash \\N \\. end\\",
    "\\N",
    "'quotes' \"double\" ;--",
    "Бозори Шоҳмансур",
    "emoji 💳 and é (e + \u0301)",
    "",
    " ",
    ",|\x01\x1f\x7f",
]


def _rows(conn: int, account: int, n: int, salt: int = 0) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        weird = AWKWARD[i % len(AWKWARD)]
        rows.append(
            {
                "connection_id": conn,
                "external_id": f"tx-{i}-{weird[:4]}" if i % 7 == 0 else f"tx-{i}",
                "account_id": account,
                "status": "PENDING" if i % 11 == 0 else "BOOKED",
                "booking_date": date(2026, 10, 1) + timedelta(days=i % 40),
                "booked_at": None if i % 5 == 0 else T0 - timedelta(minutes=i, microseconds=i),
                "amount_minor": -(1_000 + 37 * i) - salt if i % 3 else 10**15 + i,
                "currency": "TJS",
                "balance_after_minor": None if i % 4 == 0 else 100_000 - i,
                "type": "CARD_PAYMENT",
                # Every 13th row at its column's full width (descriptions 2000, names 255).
                "description": ("д" * 2000) if i % 13 == 0 else f"{weird} #{i}",
                "counterparty_name": ("N" * 255) if i % 13 == 0 else (weird or None),
                "counterparty_account": None if i % 2 else f"••••{1000 + i}",
                "card_id": None,
            }
        )
    return rows


async def _card(s: AsyncSession, conn: int) -> int:
    values = {"connection_id": conn, "external_id": "card-1", "scheme": "VISA"}
    values |= {"pan_masked": "4169 73•• •••• 1234", "status": "ACTIVE", "payload_hash": "-"}
    return int((await s.execute(insert(Card).values(**values).returning(Card.id))).scalar_one())


async def _history(sessions: async_sessionmaker[AsyncSession], n: int) -> list[Any]:
    """Five pages written as a sync writes them; returns every count and revision seen."""
    out: list[Any] = []

    async def page(rows: list[dict[str, Any]], at: datetime) -> None:
        async with sessions.begin() as s:
            written = await write_transactions(s, rows, run_id=None, links=LINKS, now=at)
        out.append((written.inserted, written.changed, written.unchanged))
        out.append(sorted((r.external_id, r.kind, r.fields) for r in written.revisions))

    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    first = _rows(conn, account, n)
    # The page repeats ids: the last delivery of each counts, the others are unchanged.
    repeated = first + [dict(r, description="sent again") for r in first[: n // 3]]
    await page(repeated, T0)
    await page(first, T0 + timedelta(minutes=1))  # unchanged: nothing moves
    async with sessions.begin() as s:
        card = await _card(s, conn)
    changed = _rows(conn, account, n + n // 4, salt=1)  # facts changed, and new rows
    for i, row in enumerate(changed):
        if i % 3 == 0:
            row["card_id"] = card  # links resolved now
        if i % 6 == 0:
            row["amount_minor"] = first[i]["amount_minor"] if i < n else row["amount_minor"]
    await page(changed, T0 + timedelta(minutes=2))
    async with sessions.begin() as s:
        gone = {r["external_id"] for r in changed[1 : n // 2 : 5] if r["status"] == "BOOKED"}
        removed = await remove(s, account, gone, run_id=None, now=T0 + timedelta(minutes=3))
    out.append(sorted(r.external_id for r in removed))
    # Listed again without the links (unresolvable now): restored, links never erased.
    unlinked = [dict(r, card_id=None) for r in changed]
    await page(unlinked, T0 + timedelta(minutes=4))
    # Ids are compared as the rows they name: a sequence may skip differently (an
    # `INSERT ... ON CONFLICT` draws an id for every row it meets, inserted or not).
    async with sessions() as s:
        stored = (await s.execute(select(TX).order_by(TX.c.external_id))).mappings().all()
        named = {row["id"]: row["external_id"] for row in stored}
        revisions = (await s.execute(select(REV).order_by(REV.c.id))).mappings().all()
    out.append([{**row, "id": None} for row in stored])
    # Revisions of one write are one INSERT ... SELECT: their order among themselves is
    # the plan's, so they are compared as a set.
    kept = [
        {**row, "id": None, "transaction_id": named[row["transaction_id"]]} for row in revisions
    ]
    out.append(sorted(kept, key=lambda row: (row["recorded_at"], row["transaction_id"])))
    return out


async def _empty(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Every table empty and every id sequence restarted, so the second history gets the
    same ids as the first."""
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with sessions.begin() as s:
        await s.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real: Callable[..., Awaitable[Any]] = bulk_pg.upsert_copy

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args[2]))
        return await real(*args, **kwargs)

    monkeypatch.setattr(bulk_pg, "upsert_copy", counted)
    return calls


@pytest.mark.parametrize("n", [writes.BULK_MIN_ROWS, 1200])
async def test_the_bulk_path_stores_and_counts_what_the_multi_row_path_does(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    calls = _spy(monkeypatch)
    monkeypatch.setattr(writes, "BULK_MIN_ROWS", 10**9)
    multi_row = await _history(sessions, n)
    assert calls == []
    await _empty(sessions)
    monkeypatch.setattr(writes, "BULK_MIN_ROWS", 1)
    bulk = await _history(sessions, n)
    assert len(calls) == 4  # every page went through COPY

    assert bulk == multi_row
    counts = [bulk[0], bulk[2], bulk[4], bulk[7]]
    assert counts[0] == (n, 0, n // 3)
    assert counts[1] == (0, n // 3, n - n // 3)  # the repeats' last delivery undone
    assert counts[2][0] == n // 4 and counts[2][1] > 0
    assert sum(counts[3]) == n + n // 4 and counts[3][0] == 0
    assert {kind for _, kind, _ in bulk[5]} == {"CHANGED"} and bulk[6]
    assert {kind for _, kind, _ in bulk[8]} == {"RESTORED"}
    linked = [row for row in bulk[-2] if row["card_id"] is not None]
    assert len(linked) == len(range(0, n + n // 4, 3))  # filled, then never erased


async def test_a_big_page_of_new_rows_is_one_copy(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 5000)
        first = await write_transactions(s, rows, run_id=None, links=LINKS, now=T0)
        # The same table again in the same transaction: the staging table starts empty.
        again = await write_transactions(s, rows, run_id=None, links=LINKS, now=T0)
    async with sessions.begin() as s:  # below the threshold: the multi-row statement
        small = _rows(conn, account, writes.BULK_MIN_ROWS - 1)
        for row in small:
            row["external_id"] = f"small-{row['external_id']}"
        below = await write_transactions(s, small, run_id=None, links=LINKS, now=T0)
    assert calls == [5000, 5000]
    assert (below.inserted, below.changed, below.unchanged) == (len(small), 0, 0)
    assert (first.inserted, first.changed, first.unchanged) == (5000, 0, 0)
    assert (again.inserted, again.changed, again.unchanged) == (0, 0, 5000)
    async with sessions() as s:
        stored = dict((await s.execute(select(TX.c.external_id, TX.c.description))).all())
    assert stored == {r["external_id"]: r["description"] for r in rows + small}


async def test_unwatched_tables_merge_in_one_statement(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)

    def payments(n: int, provider: str) -> list[dict[str, Any]]:
        return [
            {
                "connection_id": conn,
                "external_id": f"sp-{i}",
                "account_id": account,
                "provider": provider if i % 2 else "Tcell",
                "category": "MOBILE",
                "service_account_masked": None if i % 3 else f"+992 •• ••• {i:04d}",
                "amount_minor": 100 + i,
                "currency": "TJS",
                "paid_at": T0 - timedelta(hours=i),
                "autopay": i % 5 == 0,
            }
            for i in range(n)
        ]

    results = []
    for n, provider, minute in ((300, "Babilon-M", 0), (400, "Babilon-M", 1), (400, "Megafon", 2)):
        async with sessions.begin() as s:
            at = T0 + timedelta(minutes=minute)
            result = await upsert(s, SP, payments(n, provider), now=at)
        results.append((result.inserted, result.changed, result.unchanged))
    assert calls == [300, 400, 400]
    assert results == [(300, 0, 0), (100, 0, 300), (0, 200, 200)]
    async with sessions() as s:
        moved = (
            await s.execute(
                select(SP.c.external_id).where(SP.c.updated_at == T0 + timedelta(minutes=2))
            )
        ).scalars()
        assert sorted(moved) == sorted(f"sp-{i}" for i in range(1, 400, 2))


async def test_refusals_reach_the_caller_as_they_do_on_the_multi_row_path(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too long for its column: a `DBAPIError` (the sync's per-row fallback relies on it),
    and the transaction is rolled back whole; a naive timestamp: refused before COPY."""
    calls = _spy(monkeypatch)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 200)
    rows[123]["counterparty_name"] = "x" * 256
    with pytest.raises(DBAPIError, match="too long"):
        async with sessions.begin() as s:
            await write_transactions(s, rows, run_id=None, links=LINKS, now=T0)
    rows = _rows(conn, account, 200)
    rows[77]["booked_at"] = datetime(2026, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="naive datetime"):
        async with sessions.begin() as s:
            await write_transactions(s, rows, run_id=None, links=LINKS, now=T0)
    assert calls == [200, 200]
    async with sessions.begin() as s:  # nothing of either is left, staging table included
        written = await write_transactions(
            s, _rows(conn, account, 200), run_id=None, links=LINKS, now=T0
        )
    assert (written.inserted, written.unchanged) == (200, 0)


async def _staged(s: AsyncSession) -> int:
    """How many staging tables this session's connection has created."""
    query = text(
        "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() "
        "AND relname LIKE 'stage_%'"
    )
    return int((await s.execute(query)).scalar_one())


async def test_a_page_of_new_rows_goes_straight_into_the_table(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """No staging table for a first sync's page; one met stored rows the sample of probed
    identities missed is merged instead, counted and revised as the merge counts."""
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 1000)
        first = await write_transactions(s, rows[:5] + rows[6:], run_id=None, links=LINKS, now=T0)
        assert await _staged(s) == 0
    # Row 5 is new, every other one stored: the probe finds them, the merge runs.
    async with sessions.begin() as s:
        again = await write_transactions(s, rows, run_id=None, links=LINKS, now=T0)
        assert await _staged(s) == 1
    page = _rows(conn, account, 2000)[1000:]  # new rows
    booked = next(i for i in range(1, 30) if rows[i]["status"] == "BOOKED")
    moved = dict(rows[booked], amount_minor=rows[booked]["amount_minor"] - 1)
    page[booked] = moved  # stored, changed, and not among the identities probed
    later = T0 + timedelta(minutes=1)
    async with sessions.begin() as s:
        mixed = await write_transactions(s, page, run_id=None, links=LINKS, now=later)
    assert (first.inserted, first.changed, first.unchanged, first.all_new) == (999, 0, 0, True)
    assert (again.inserted, again.changed, again.unchanged) == (1, 0, 999)
    assert (mixed.inserted, mixed.changed, mixed.unchanged) == (999, 1, 0)
    assert [(r.external_id, r.kind) for r in mixed.revisions] == [(moved["external_id"], "CHANGED")]
    async with sessions() as s:
        stored = dict((await s.execute(select(TX.c.external_id, TX.c.amount_minor))).all())
    assert len(stored) == 1999
    assert stored == {r["external_id"]: r["amount_minor"] for r in rows + page}


async def test_two_sessions_writing_the_same_new_page(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The second waits for the first's rows and, once they are committed, finds them
    stored: its COPY is rolled back to its savepoint and the merge counts them unchanged."""
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    rows = _rows(conn, account, 500)
    async with sessions() as first, sessions() as second:
        async with first.begin():
            one = await write_transactions(first, rows, run_id=None, links=LINKS, now=T0)
            waiting = asyncio.create_task(_write_in(second, rows))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # blocked on the first's uncommitted rows
        other = await waiting
    assert (one.inserted, one.changed, one.unchanged) == (500, 0, 0)
    assert (other.inserted, other.changed, other.unchanged) == (0, 0, 500)
    async with sessions() as s:
        count = (await s.execute(select(func.count()).select_from(TX))).scalar_one()
    assert count == 500


async def _write_in(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    async with session.begin():
        later = T0 + timedelta(minutes=1)
        return await write_transactions(session, rows, run_id=None, links=LINKS, now=later)
