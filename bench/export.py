"""Export benchmark: stream an account's statement of N booked transactions as a file
and compare with reading the same rows with raw SQL.

Per N, a seeded ledger (one account, N rows over a year; SQLite by default, or the
database of `--url`); then, each in its own process so peak RSS is that step's alone:
(1) raw SQL: the export's own query (`ledger.exports.source.rows_query`) through the same
server-side cursor, each row fetched and dropped; (2) the export: `ledger.exports.open_export`
(the statement's figures) + `write` into a file. Reported: seconds, rows/s, the ratio
export/raw in the same run, peak RSS of each step, and for the export the peak before its
first row (after the figures) and what streaming the rows added to it:

    .venv/bin/python -m bench.export --ns 10000,100000,1000000 --format csv
    .venv/bin/python -m bench.export --url postgresql+asyncpg://postgres@127.0.0.1:5432/alif_bench_export
    .venv/bin/python -m bench.export --ns 100000 --years 10   # a year's statement, 10x history
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy

from ledger.db import create_engine, session_factory
from ledger.models import Account, Connection, Institution, Transaction, User, metadata, table

RESULTS = Path(__file__).parent / "results" / "export.json"
START = date(2025, 1, 1)
CHUNK = 20_000
WORDS = ["Оплата", "Бозори Корвон", "Auchan", "Перевод", "Tcell", "Ҷойи ҳисоб", "қарз"]
CATEGORIES = ["groceries", "restaurants", "transport", "mobile", None, "FOOD_AND_DRINK_COFFEE"]


async def seed(url: str, n: int, years: int = 1) -> None:
    """One account with n booked rows a year over `years` years and a running balance,
    in a fresh schema."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    rng = random.Random(n)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(
            sqlalchemy.insert(table(Institution)),
            {"id": 1, "code": "alif", "name": "Alif Bank", "country": "TJ", "bic": "ALIFTJ22"},
        )
        await conn.execute(sqlalchemy.insert(table(User)), {"id": 1, "phone": "+992900000001"})
        await conn.execute(
            sqlalchemy.insert(table(Connection)),
            {"id": 1, "user_id": 1, "institution_id": 1, "provider": "alif", "base_url": "-",
             "bank_id": "alif.tj", "credentials_encrypted": b"-"},
        )  # fmt: skip
        await conn.execute(
            sqlalchemy.insert(table(Account)),
            {"id": 1, "connection_id": 1, "external_id": "a", "institution_id": 1, "user_id": 1,
             "type": "WALLET", "name": "Alif Mobi", "number": "20202972100049668601",
             "number_masked": "••••8601", "currency": "TJS", "payload_hash": "-"},
        )  # fmt: skip
    balance, per_day = 1_000_00, max(1, n // 365)
    for first in range(0, n * years, CHUNK):
        rows: list[dict[str, Any]] = []
        for i in range(first, min(n * years, first + CHUNK)):
            day = START + timedelta(i // per_day)
            amount = rng.randint(-50_00, 40_00)
            balance += amount
            rows.append(
                {"connection_id": 1, "external_id": f"t{i}", "account_id": 1,
                 "status": "BOOKED", "booking_date": day, "value_date": day,
                 "booked_at": datetime.combine(day, datetime.min.time(), UTC)
                 + timedelta(seconds=i % per_day),
                 "amount_minor": amount, "currency": "TJS", "balance_after_minor": balance,
                 "type": "CARD_PAYMENT", "description": " ".join(rng.sample(WORDS, 3)),
                 "counterparty_name": rng.choice(WORDS), "category": rng.choice(CATEGORIES),
                 "payload_hash": "-", "created_at": now, "updated_at": now}
            )  # fmt: skip
        async with engine.begin() as conn:
            await conn.execute(sqlalchemy.insert(table(Transaction)), rows)
    await engine.dispose()


def _period(n: int, years: int = 1) -> tuple[date, date]:
    """The statement's period: the days of the history's last n rows (n rows, and with
    more years before it, those of its first day that came before them)."""
    per_day = max(1, n // 365)
    return START + timedelta((years - 1) * n // per_day), START + timedelta(
        (years * n - 1) // per_day
    )


async def raw(url: str, n: int, years: int) -> dict[str, float]:
    from ledger.exports.source import BATCH, rows_query

    engine = create_engine(url)
    first, last = _period(n, years)
    started, count = time.perf_counter(), 0
    async with session_factory(engine)() as session:
        stmt = rows_query(1, first, last, booked_only=True).execution_options(yield_per=BATCH)
        async for _ in await session.stream(stmt):
            count += 1
    seconds = time.perf_counter() - started
    await engine.dispose()
    return {"rows": count, "seconds": seconds}


async def export(url: str, n: int, fmt: str, years: int) -> dict[str, float]:
    from ledger import exports
    from ledger.exports import ExportFormat

    engine = create_engine(url)
    first, last = _period(n, years)
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        found = await exports.open_export(
            session, 1, first, last, ExportFormat(fmt), created_at=datetime.now(UTC)
        )
        assert found is not None
        before_rows = _peak_mb()
        with tempfile.TemporaryFile() as out:
            written = await exports.write(found, out.write)
    seconds = time.perf_counter() - started
    await engine.dispose()
    return {
        "rows": found.head.figures.count,
        "seconds": seconds,
        "bytes": written.size,
        "peak_before_rows_mb": before_rows,
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(args: argparse.Namespace) -> None:
    if args.step == "seed":
        asyncio.run(seed(args.db, args.n, args.years))
        result: dict[str, float] = {}
    elif args.step == "raw":
        result = asyncio.run(raw(args.db, args.n, args.years))
    else:
        result = asyncio.run(export(args.db, args.n, args.format, args.years))
    result["peak_rss_mb"] = _peak_mb()
    print(json.dumps(result))


def _run(step: str, db: str, n: int, fmt: str, years: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.export", "--child", step, "--db", db,
         "--n", str(n), "--format", fmt, "--years", str(years)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of years >= 1")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ns", default="10000,100000,1000000")
    parser.add_argument("--format", default="csv")
    parser.add_argument("--url", default=None, help="a database to seed (default: SQLite)")
    parser.add_argument("--child", dest="step", default=None)
    parser.add_argument("--db")
    parser.add_argument("--n", type=int)
    parser.add_argument(
        "--years",
        type=_positive,
        default=1,
        help="years of history, N rows each; the last is exported",
    )
    args = parser.parse_args()
    if args.step is not None:
        _child(args)
        return
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.ns.split(",")):
            db = args.url or f"sqlite+aiosqlite:///{Path(tmp) / f'export-{n}.db'}"
            _run("seed", db, n, args.format, args.years)
            base = _run("raw", db, n, args.format, args.years)
            ours = _run("export", db, n, args.format, args.years)
            assert base["rows"] == ours["rows"] >= n, (base, ours)
            entry = {
                "n": n,
                "history_years": args.years,
                "statement_rows": ours["rows"],
                "format": args.format,
                "raw_seconds": round(base["seconds"], 3),
                "export_seconds": round(ours["seconds"], 3),
                "ratio": round(ours["seconds"] / base["seconds"], 2),
                "rows_per_second": round(ours["rows"] / ours["seconds"]),
                "bytes": ours["bytes"],
                "raw_peak_rss_mb": round(base["peak_rss_mb"], 1),
                "export_peak_rss_mb": round(ours["peak_rss_mb"], 1),
                "export_peak_before_rows_mb": round(ours["peak_before_rows_mb"], 1),
                "streaming_added_mb": round(ours["peak_rss_mb"] - ours["peak_before_rows_mb"], 1),
                "database": "postgresql" if args.url else "sqlite",
            }
            report.append(entry)
            print(json.dumps(entry), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else []

    def key(entry: dict[str, Any]) -> tuple[Any, ...]:
        return entry.get("database", "sqlite"), entry["n"], entry.get("history_years", 1)

    ran = {key(e) for e in report}
    kept = [e for e in kept if key(e) not in ran] + report
    RESULTS.write_text(json.dumps(kept, indent=2) + "\n")


if __name__ == "__main__":
    main()
