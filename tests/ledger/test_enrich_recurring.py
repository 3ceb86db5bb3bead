"""Recurring streams on generated series: monthly, weekly and irregular ones, on both
databases; autopay payments are streams by construction; statuses follow the calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.enrich.recurring import Occurrence, _add_months, detect, streams_of
from ledger.enrich.text import normalize
from ledger.models import ServicePayment, Transaction, table

from .factories import connected_account

TX = table(Transaction)
START = date(2025, 1, 3)


def _monthly(rng: random.Random, n: int, amount: int) -> list[tuple[date, int]]:
    return [
        (_add_months(START, i) + timedelta(days=rng.randint(-2, 2)), amount + rng.randint(-50, 50))
        for i in range(n)
    ]


def _weekly(rng: random.Random, n: int, amount: int) -> list[tuple[date, int]]:
    return [
        (START + timedelta(days=7 * i + rng.randint(-1, 1)), amount + rng.randint(-30, 30))
        for i in range(n)
    ]


def _irregular(rng: random.Random, n: int) -> list[tuple[date, int]]:
    day, out = START, []
    for _ in range(n):
        day += timedelta(days=rng.choice([1, 2, 3, 4, 5, 9, 11, 17, 20]))
        out.append((day, rng.randint(500, 40000)))
    return out


def _occurrences(series: list[tuple[date, int]], payee: str, start_id: int = 1) -> list[Occurrence]:
    return [
        Occurrence(start_id + i, d, -a, "TJS", payee, "X", "TEXT", False)
        for i, (d, a) in enumerate(series)
    ]


@pytest.mark.parametrize("seed", range(20))
def test_monthly_weekly_and_irregular_series(seed: int) -> None:
    rng = random.Random(seed)
    monthly = _monthly(rng, rng.randint(3, 14), rng.randint(5_000, 60_000))
    weekly = _weekly(rng, rng.randint(3, 30), rng.randint(1_000, 9_000))
    irregular = _irregular(rng, rng.randint(5, 40))
    found = [
        *_occurrences(monthly, "tcell"),
        *_occurrences(weekly, "bozori korvon", 1000),
        *_occurrences(irregular, "auchan", 2000),
    ]
    rng.shuffle(found)
    as_of = max(d for d, _ in monthly + weekly) + timedelta(days=1)

    streams = {s.payee: s for s in detect(found, as_of)}

    assert set(streams) == {"tcell", "bozori korvon"}  # no false stream from irregular spending
    assert streams["tcell"].frequency == "MONTHLY"
    assert streams["bozori korvon"].frequency == "WEEKLY"
    assert len(streams["tcell"].transaction_ids) == len(monthly)
    assert streams["tcell"].last_date == max(d for d, _ in monthly)
    assert streams["tcell"].next_date == _add_months(streams["tcell"].last_date, 1)
    assert streams["tcell"].average.minor == round(-sum(a for _, a in monthly) / len(monthly))
    assert all(s.direction == "OUTFLOW" for s in streams.values())


def test_status_follows_the_calendar() -> None:
    series = [(_add_months(START, i), 10_000) for i in range(6)]
    last = series[-1][0]

    def status(days: int) -> str:
        (stream,) = detect(_occurrences(series, "rent"), last + timedelta(days=days))
        return stream.status

    assert status(1) == "ACTIVE"
    assert status(35) == "ACTIVE"  # within the grace after the next date
    assert status(40) == "LATE"
    assert status(100) == "ENDED"


def test_two_payments_and_amounts_that_differ_make_no_stream_unless_autopay() -> None:
    two = _occurrences([(START, 1000), (_add_months(START, 1), 1000)], "tcell")
    assert detect(two, START + timedelta(days=40)) == []
    autopay = [
        Occurrence(o.id, o.booking_date, o.amount_minor, "TJS", o.payee, None, None, True)
        for o in two
    ]
    (stream,) = detect(autopay, START + timedelta(days=40))
    assert stream.autopay and stream.frequency == "MONTHLY"
    wild = [(_add_months(START, i), a) for i, a in enumerate([1000, 9000, 300, 25000, 700])]
    assert detect(_occurrences(wild, "shop"), START + timedelta(days=200)) == []


async def test_streams_from_stored_rows(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The same on both databases, from ledger rows: names in two spellings and with
    numbers are one payee, shown as the bank last wrote it; an inflow stream (salary) is told
    from outflows; a removed row and a copy marked as a duplicate do not count; two autopay
    service payments are a stream."""
    rng = random.Random(5)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        rows = []
        names = ["Tcell 93 555 11 22", "TCELL +992935551122", "tcell"]
        for i, (day, amount) in enumerate(_monthly(rng, 8, 5000)):
            rows.append(_row(conn, account, f"m{i}", day, -amount, counterparty=rng.choice(names)))
        for i, (day, amount) in enumerate(_monthly(rng, 6, 400000)):
            rows.append(_row(conn, account, f"s{i}", day, amount, description=f"Зарплата {i}"))
        for i, (day, amount) in enumerate(_irregular(rng, 25)):
            rows.append(_row(conn, account, f"i{i}", day, -amount, counterparty="Бозори Баракат"))
        rows.append(
            {**_row(conn, account, "gone", START, -5000, counterparty="tcell"),
             "removed_at": datetime(2025, 2, 1, tzinfo=UTC)}
        )  # fmt: skip
        payments = (
            await s.execute(
                insert(table(ServicePayment)).returning(table(ServicePayment).c.id),
                [
                    {"connection_id": conn, "external_id": f"p{i}", "account_id": account,
                     "provider": "Babilon-T", "category": "internet", "amount_minor": 9000 + i,
                     "currency": "TJS", "paid_at": datetime(2025, 3, 1 + 20 * i, tzinfo=UTC),
                     "autopay": True, "payload_hash": "-"}
                    for i in range(2)
                ],
            )
        ).scalars().all()  # fmt: skip
        for i, payment in enumerate(payments):
            rows.append(
                {**_row(conn, account, f"a{i}", date(2025, 3, 1 + 20 * i), -9000 - i,
                        counterparty="Babilon-T"), "service_payment_id": payment}
            )  # fmt: skip
        await s.execute(insert(TX), [{"service_payment_id": None, **r} for r in rows])
        first = (await s.execute(select(TX.c.id).where(TX.c.external_id == "m0"))).scalar_one()
        copy = {**rows[0], "external_id": "m0-copy", "duplicate_of_id": first}
        await s.execute(insert(TX), [{"service_payment_id": None, **copy}])
    as_of = date(2025, 9, 10)
    async with sessions() as s:
        found = await streams_of(s, [account], as_of)
        streams = {(normalize(x.payee), x.direction): x for x in found}
    last_tcell = max(
        (r for r in rows if r["external_id"].startswith("m")), key=lambda r: r["booking_date"]
    )
    assert streams["tcell", "OUTFLOW"].payee == last_tcell["counterparty_name"]
    assert streams["zarplata", "INFLOW"].payee == "Зарплата"

    assert set(streams) == {
        ("tcell", "OUTFLOW"),
        ("zarplata", "INFLOW"),
        ("babilon t", "OUTFLOW"),  # autopay: a stream by construction, not yet regular
    }
    assert streams["babilon t", "OUTFLOW"].frequency == "UNKNOWN"
    assert streams["babilon t", "OUTFLOW"].autopay
    assert len(streams["tcell", "OUTFLOW"].transaction_ids) == 8
    assert streams["zarplata", "INFLOW"].frequency == "MONTHLY"
    async with sessions() as s:
        assert await streams_of(s, [], as_of) == []


def _row(conn: int, account: int, ext: str, day: date, amount: int, **names: str) -> dict:
    return {
        "connection_id": conn,
        "external_id": ext,
        "account_id": account,
        "status": "BOOKED",
        "booking_date": day,
        "amount_minor": amount,
        "currency": "TJS",
        "type": "CARD_PAYMENT",
        "description": names.get("description"),
        "counterparty_name": names.get("counterparty"),
        "payload_hash": "-",
        "removed_at": None,
    }
