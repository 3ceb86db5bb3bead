from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import revisions
from ledger.models import Card, Transaction
from ledger.money import Money, format_minor
from ledger.queries import sum_minor
from ledger.writes import BULK_MIN_ROWS, NO_SEED, TRANSACTION_IDENTITY, OnInsert, lookup, upsert

from .factories import connected_account

TABLE = Transaction.__table__
LINK = ("card_id",)
KEY = TRANSACTION_IDENTITY


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
        first = await upsert(s, TABLE, identity=KEY, rows=_rows(conn, account, 50))
    assert (first.inserted, first.changed, first.unchanged) == (50, 0, 0)
    async with sessions() as s:
        before = await _snapshot(s)

    async with sessions.begin() as s:
        second = await upsert(s, TABLE, identity=KEY, rows=_rows(conn, account, 50))
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
        await upsert(s, TABLE, identity=KEY, rows=_rows(conn, account, 10))
    async with sessions() as s:
        before = await _snapshot(s)

    rows = _rows(conn, account, 12)
    rows[3]["description"] = "Auchan Dushanbe Mall"
    rows[7]["amount_minor"] = -999
    async with sessions.begin() as s:
        result = await upsert(s, TABLE, identity=KEY, rows=rows)
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
        result = await upsert(s, TABLE, identity=KEY, rows=rows + rows[:2])
    assert (result.inserted, result.changed, result.unchanged) == (5, 0, 2)


async def test_large_batch_is_chunked_under_the_parameter_cap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        result = await upsert(s, TABLE, identity=KEY, rows=_rows(conn, account, 5000))
    assert result.inserted == 5000


async def test_tenth_plus_twentieth_is_exactly_thirty_hundredths(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 2)
        rows[0]["amount_minor"] = Money.parse("0.10", "TJS").minor
        rows[1]["amount_minor"] = Money.parse("0.20", "TJS").minor
        await upsert(s, TABLE, identity=KEY, rows=rows)
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
            await upsert(s, TABLE, identity=KEY, rows=rows)


async def _card(session: AsyncSession, conn: int) -> int:
    result = await session.execute(
        insert(Card)
        .values(
            connection_id=conn,
            external_id="card-1",
            scheme="VISA",
            pan_masked="4169 73•• •••• 1234",
            status="ACTIVE",
            payload_hash="-",
        )
        .returning(Card.id)
    )
    return int(result.scalar_one())


async def test_a_link_resolved_later_is_filled_in_and_never_erased(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = [r | {"card_id": None} for r in _rows(conn, account, 3)]
        await upsert(s, TABLE, identity=KEY, rows=rows, links=LINK)
        card = await _card(s, conn)
    # The card is stored now: the same payload with the link resolved fills it in.
    relinked = [r | {"card_id": card if i == 1 else None} for i, r in enumerate(rows)]
    async with sessions.begin() as s:
        filled = await upsert(s, TABLE, identity=KEY, rows=relinked, links=LINK)
    # A later delivery that cannot resolve the link leaves the stored one alone.
    async with sessions.begin() as s:
        again = await upsert(s, TABLE, identity=KEY, rows=rows, links=LINK)
    async with sessions() as s:
        stored = dict((await s.execute(select(Transaction.external_id, Transaction.card_id))).all())

    assert (filled.inserted, filled.changed, filled.unchanged) == (0, 1, 2)
    assert (again.inserted, again.changed, again.unchanged) == (0, 0, 3)
    assert stored == {"tx-0": None, "tx-1": card, "tx-2": None}


async def test_links_stay_out_of_the_payload_hash(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        card = await _card(s, conn)
        linked = [r | {"card_id": card} for r in _rows(conn, account, 2)]
        await upsert(s, TABLE, identity=KEY, rows=linked, links=LINK)
    async with sessions() as s:
        hashes = (await s.execute(select(Transaction.payload_hash))).scalars().all()
    unlinked = [r | {"card_id": None} for r in _rows(conn, account, 2)]
    async with sessions.begin() as s:
        await s.execute(Transaction.__table__.delete())
        await upsert(s, TABLE, identity=KEY, rows=unlinked, links=LINK)
    async with sessions() as s:
        assert (await s.execute(select(Transaction.payload_hash))).scalars().all() == hashes


async def test_timestamps_are_stored_as_utc_instants(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dushanbe = ZoneInfo("Asia/Dushanbe")  # UTC+5
    moment = datetime(2026, 3, 21, 17, 30, 5, 123456, tzinfo=dushanbe)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = _rows(conn, account, 2)
        rows[0]["booked_at"] = moment
        rows[1]["booked_at"] = moment.replace(microsecond=0)
        await upsert(s, TABLE, identity=KEY, rows=rows)
    async with sessions() as s:
        stored = (
            (await s.execute(select(Transaction.booked_at).order_by(Transaction.external_id)))
            .scalars()
            .all()
        )
    assert stored == [moment, moment.replace(microsecond=0)]
    assert all(value.utcoffset() == timedelta(0) for value in stored)


@pytest.mark.parametrize("count", [1, 3, 1000, 20_000])
async def test_lookup_finds_exactly_the_stored_keys(
    sessions: async_sessionmaker[AsyncSession], count: int
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        await upsert(s, TABLE, identity=KEY, rows=_rows(conn, account, 40))
    wanted = [f"tx-{i}" for i in range(0, 80, 2)] + [f"absent-{i}" for i in range(count)]
    async with sessions() as s:
        found = await lookup(
            s, TABLE, {"account_id": account}, "external_id", wanted, ("amount_minor",)
        )
    assert set(found) == {f"tx-{i}" for i in range(0, 40, 2)}
    assert found["tx-4"] == (Money.parse("-12.50", "TJS").minor - 4,)


async def test_the_payload_hash_format_does_not_drift(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Stored hashes decide what a re-sync rewrites: a new format would make every stored
    row look changed once. This is sha256 of the data columns as key-sorted JSON."""
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        row = {
            "connection_id": conn,
            "external_id": "tx-0",
            "account_id": account,
            "status": "BOOKED",
            "booking_date": date(2026, 1, 1),
            "booked_at": datetime(2026, 1, 1, 9, 30, tzinfo=ZoneInfo("UTC")),
            "amount_minor": -1250,
            "currency": "TJS",
            "type": "CARD_PAYMENT",
            "description": "Бозори Шоҳмансур",
            "card_id": None,
        }
        await upsert(s, TABLE, identity=KEY, rows=[row], links=LINK)
    async with sessions() as s:
        stored = (await s.execute(select(Transaction.payload_hash))).scalar_one()
    assert (conn, account) == (1, 1)  # the ids are part of the hashed payload
    assert stored == "83c2222f6c370de76a35e8bc8384d5617d05977149d4a416c896e98dd483a84a"


_SEED = OnInsert(("auto_category", "match_text"), hash_into="enriched_hash")


async def _seeded(session: AsyncSession) -> dict[str, tuple]:
    query = select(
        Transaction.external_id,
        Transaction.payload_hash,
        Transaction.auto_category,
        Transaction.match_text,
        Transaction.enriched_hash,
        Transaction.updated_at,
    )
    return {r[0]: tuple(r[1:]) for r in await session.execute(query)}


def _with_seed(rows: list[dict], label: str) -> list[dict]:
    return [r | {"auto_category": f"{label}-{i}", "match_text": label} for i, r in enumerate(rows)]


@pytest.mark.parametrize("watched", [False, True], ids=["upsert", "watched"])
@pytest.mark.parametrize("n", [3, BULK_MIN_ROWS - 1, BULK_MIN_ROWS, 250])
async def test_columns_written_on_insert_only(
    sessions: async_sessionmaker[AsyncSession], n: int, watched: bool
) -> None:
    """`OnInsert` columns go in with a new row (`hash_into` taking its payload hash), stay
    out of the hash, and no later write touches them: an unchanged row stays as it is, a
    changed one takes the new payload but keeps them for their owner to redo. On both
    sides of PostgreSQL's COPY threshold, with and without a watch."""
    now = datetime(2026, 3, 1, 9, tzinfo=ZoneInfo("UTC"))

    async def write(rows: list[dict], seed: OnInsert, at: datetime) -> tuple[int, int, int]:
        async with sessions.begin() as s:
            if watched:
                done = await revisions.write_transactions(
                    s, rows, run_id=None, links=(), now=at, on_insert=seed
                )
                return done.inserted, done.changed, done.unchanged
            result = await upsert(s, TABLE, identity=KEY, rows=rows, now=at, on_insert=seed)
            return result.inserted, result.changed, result.unchanged

    async with sessions.begin() as s:
        conn, account = await connected_account(s)
    plain = _rows(conn, account, n)
    # The hashes of the same rows written without seeds, then removed.
    await write(plain, NO_SEED, now)
    async with sessions.begin() as s:
        unseeded = {k: v[0] for k, v in (await _seeded(s)).items()}
        await s.execute(TABLE.delete())

    assert await write(_with_seed(plain, "first"), _SEED, now) == (n, 0, 0)
    async with sessions() as s:
        first = await _seeded(s)
    assert {k: v[0] for k, v in first.items()} == unseeded
    for i, row in enumerate(plain):
        payload, category, text, enriched, _ = first[row["external_id"]]
        assert (category, text, enriched) == (f"first-{i}", "first", payload)

    # The same payloads with other seeds: nothing is written.
    later = now + timedelta(hours=1)
    assert await write(_with_seed(plain, "again"), _SEED, later) == (0, 0, n)
    async with sessions() as s:
        assert await _seeded(s) == first

    # Some rows changed, one new: the changed keep their seed and the hash it came from.
    changed = {f"tx-{i}" for i in range(0, n, 2)}
    rows = [r | {"description": "Auchan"} if r["external_id"] in changed else r for r in plain]
    rows.append(_rows(conn, account, n + 1)[-1])
    assert await write(_with_seed(rows, "third"), _SEED, later) == (
        1,
        len(changed),
        n - len(changed),
    )
    async with sessions() as s:
        third = await _seeded(s)
    for key, (payload, category, text, enriched, updated) in third.items():
        if key == f"tx-{n}":
            assert (category, text, enriched) == (f"third-{n}", "third", payload)
        elif key in changed:
            old_payload, *kept, _ = first[key]
            assert payload != old_payload and updated == later
            assert (category, text, enriched) == tuple(kept)
        else:
            assert (payload, category, text, enriched, updated) == first[key]
