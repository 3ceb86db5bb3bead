"""Ingest benchmark: sync N sandbox transactions through the real connector path.

Reports transactions/s end to end, the ledger write stage against a raw sqlite3
`executemany` floor measured in the same run (same columns, same page size, one commit per
page), and the peak RSS. Each N runs in its own process so peak memory is comparable:

    .venv/bin/python -m bench.ingest --ns 10000,100000,1000000

`--compare-enrichment` runs each size with and without the enrichment hook (alternating
processes; without it the hook is replaced by a no-op in that process only) and reports
what enrichment adds to the sync's time (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import connectors.sync
from connectors.credentials import Credentials
from connectors.factory import institution_of, open_connector
from connectors.heap import tune_for_sync
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sync import SyncEngine
from ledger import connections
from ledger.db import SQLITE_PRAGMAS, create_engine, session_factory
from ledger.models import ServicePayment, Transaction, metadata, table

RESULTS = Path(__file__).parent / "results"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


async def _sync(n: int, page_size: int, workdir: Path) -> dict[str, Any]:
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    per_account = max(1, n // len(probe.accounts_of(probe.customers[0].username)))
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'ledger.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    tune_for_sync()  # as `alif-graph sync` does before it starts
    # Warm up as a worker that has synced before: statements compiled, caches filled. Its
    # rows (another customer) stay out of the floor.
    await _sync_bank(
        sessions,
        SandboxConfig(seed=2, customers=1, as_of=AS_OF, transactions_per_account=2 * page_size),
        page_size,
    )
    config = SandboxConfig(seed=1, customers=1, as_of=AS_OF, transactions_per_account=per_account)
    _ENRICH_SECONDS[0] = 0.0
    sync, connection_id, total, status, elapsed = await _sync_bank(sessions, config, page_size)
    await engine.dispose()
    return {
        "connection_id": connection_id,
        "transactions": total,
        "status": status,
        "seconds": round(elapsed, 3),
        "transactions_per_second": round(total / elapsed),
        "write_seconds": round(sync.write_seconds, 3),
        "enrich_seconds": round(_ENRICH_SECONDS[0], 3),
        "enrich_share": round(_ENRICH_SECONDS[0] / elapsed, 3),
    }


async def _sync_bank(
    sessions: async_sessionmaker[AsyncSession], config: SandboxConfig, page_size: int
) -> tuple[SyncEngine, int, int, str, float]:
    """Link the sandbox's customer and sync them: (engine, connection id, transactions,
    status, seconds)."""
    app = create_app(config)
    bank = app.state.bank
    customer = bank.customers[0]
    total = sum(bank.count_transactions(a.id) for a in bank.accounts_of(customer.username))
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=customer.phone,
            institution=institution_of("alif", bank.bank_id),
            provider="alif",
            base_url="http://sandbox",
            bank_id=bank.bank_id,
            credentials_encrypted=b"-",
        )
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    connector = open_connector(
        "alif",
        "http://sandbox",
        bank.bank_id,
        creds,
        transport=httpx.ASGITransport(app=app),
        page_size=page_size,
    )
    sync = SyncEngine(sessions)
    started = time.perf_counter()
    report = await sync.sync(connection_id, connector)
    elapsed = time.perf_counter() - started
    await connector.aclose()
    return sync, connection_id, total, report.status, elapsed


def _floor(workdir: Path, connection_id: int) -> float:
    """Raw sqlite3 executemany of the very rows the sync's transaction pages stored
    (transactions and their service payments), into a fresh copy of the ledger schema (same
    columns, indexes, constraints and foreign keys, the referenced accounts, cards and
    transfers already there), grouped into the same database transactions: the ledger's own
    work without our code.

    Replaying the stored rows (not synthetic ones) matters: random upstream ids and real
    dates spread index inserts the way a real sync does; identical rows would not."""
    source = workdir / "ledger.db"
    target = workdir / "floor.db"
    schema = sqlalchemy.create_engine(f"sqlite:///{target}")
    metadata.create_all(schema)
    schema.dispose()
    db = sqlite3.connect(target)
    for pragma in SQLITE_PRAGMAS:  # the ledger's own settings, so only our code differs
        db.execute(f"PRAGMA {pragma}")
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    paged = [table(ServicePayment).name, table(Transaction).name]  # in the sync's write order
    for other in metadata.sorted_tables:  # referenced tables come first
        if other.name not in paged:
            db.execute(f'INSERT INTO main."{other.name}" SELECT * FROM src."{other.name}"')
    db.commit()
    elapsed = 0.0
    for pages in _pages_by_commit(db, paged, connection_id):
        started = time.perf_counter()
        for name, rows in pages:
            marks = ", ".join("?" for _ in rows[0])
            db.executemany(f'INSERT INTO main."{name}" VALUES ({marks})', rows)
        db.commit()
        elapsed += time.perf_counter() - started
    db.close()
    return elapsed


def _pages_by_commit(
    db: sqlite3.Connection, names: list[str], connection_id: int
) -> Iterator[list[tuple[str, list[tuple[Any, ...]]]]]:
    """The stored rows of `names`, grouped by the sync page that wrote them: a page stamps
    all its rows with one created_at, and ids grow page after page. Streams: one page of
    each table in memory at a time."""
    streams = {name: _groups(db, name, connection_id) for name in names}
    heads = {name: next(stream, None) for name, stream in streams.items()}
    while any(heads.values()):
        stamp = min(head[0] for head in heads.values() if head)
        page = []
        for name in names:
            head = heads[name]
            if head and head[0] == stamp:
                page.append((name, head[1]))
                heads[name] = next(streams[name], None)
        yield page


def _groups(
    db: sqlite3.Connection, name: str, connection_id: int
) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    query = f'SELECT * FROM src."{name}" WHERE connection_id = ? ORDER BY id'
    rows = db.cursor().execute(query, (connection_id,))
    stamp_at = [d[0] for d in rows.description].index("created_at")
    for stamp, group in groupby(rows, key=itemgetter(stamp_at)):
        yield stamp, list(group)


async def _no_enrichment(*_: Any, **__: Any) -> int:
    return 0


_ENRICH_SECONDS = [0.0]  # time inside the enrichment hook since the measured sync began


def _timed_hook() -> None:
    """Time the sync's enrichment hook (connectors/sync.py calls it once per page)."""
    hook = connectors.sync.enrichment.enrich_page

    async def timed(*args: Any, **kwargs: Any) -> int:
        started = time.perf_counter()
        try:
            return await hook(*args, **kwargs)
        finally:
            _ENRICH_SECONDS[0] += time.perf_counter() - started

    connectors.sync.enrichment.enrich_page = timed  # type: ignore[assignment]


def run_one(n: int, page_size: int, *, enrich: bool = True) -> dict[str, Any]:
    if enrich:
        _timed_hook()
    else:
        connectors.sync.enrichment.enrich_page = _no_enrichment  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_sync(n, page_size, Path(tmp)))
        # The sync's peak, before the floor runs (ru_maxrss is in KiB on Linux).
        result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        floor = _floor(Path(tmp), result.pop("connection_id"))
    result["floor_seconds"] = round(floor, 3)
    result["write_vs_floor"] = round(result["write_seconds"] / floor, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ns", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    parser.add_argument(
        "--compare-enrichment", action="store_true", help="with and without the enrichment hook"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-enrich", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.page_size, enrich=not args.no_enrich)))
        return
    if args.compare_enrichment:
        for n in (int(x) for x in args.ns.split(",")):
            print(json.dumps(_compare(n, args.page_size, args.repeat)))
        return
    results = []
    for n in (int(x) for x in args.ns.split(",")):
        runs = [_run_process(n, args.page_size) for _ in range(args.repeat)]
        result = _summary(runs)
        results.append(result)
        print(json.dumps(result))
    _save(results)


def _save(results: list[dict[str, Any]]) -> None:
    """Merge into the results file by size, so sizes can be run (and repeated) apart."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "ingest.json"
    saved = json.loads(path.read_text()) if path.exists() else []
    by_size = {r["transactions"]: r for r in saved if "runs" in r}
    by_size.update((r["transactions"], r) for r in results)
    path.write_text(json.dumps([by_size[n] for n in sorted(by_size)], indent=2) + "\n")


def _compare(n: int, page_size: int, repeat: int) -> dict[str, Any]:
    """Alternating runs with and without enrichment: medians and the difference."""
    with_runs, without_runs = [], []
    for _ in range(repeat):
        without_runs.append(_run_process(n, page_size, enrich=False))
        with_runs.append(_run_process(n, page_size))
    on, off = _summary(with_runs), _summary(without_runs)
    return {
        "transactions": on["transactions"],
        "runs": repeat,
        "seconds_with": on["seconds"],
        "seconds_without": off["seconds"],
        "write_seconds_with": on["write_seconds"],
        "write_seconds_without": off["write_seconds"],
        "added_percent": round(100 * (on["seconds"] / off["seconds"] - 1), 1),
        "enrich_share_each": [r["enrich_share"] for r in with_runs],
        "each_with": [r["seconds"] for r in with_runs],
        "each_without": [r["seconds"] for r in without_runs],
    }


def _run_process(n: int, page_size: int, *, enrich: bool = True) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ingest", f"--one={n}", f"--page-size={page_size}"]
    if not enrich:
        command.append("--no-enrich")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs (a shared machine varies by ±20 % from run to run), the
    highest peak memory, and every run's ratio."""
    medians = {
        key: statistics.median(run[key] for run in runs)
        for key in ("seconds", "transactions_per_second", "write_seconds", "floor_seconds")
        if key in runs[0]
    }
    return {
        "transactions": runs[0]["transactions"],
        "runs": len(runs),
        **medians,
        "write_vs_floor": statistics.median(run["write_vs_floor"] for run in runs),
        "write_vs_floor_each": [run["write_vs_floor"] for run in runs],
        "peak_rss_mib": max(run["peak_rss_mib"] for run in runs),
        "status": sorted({run["status"] for run in runs}),
    }


if __name__ == "__main__":
    main()
