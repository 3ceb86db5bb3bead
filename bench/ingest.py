"""Ingest benchmark: sync N sandbox transactions through the real connector path.

Reports transactions/s end to end, the ledger write stage against a raw sqlite3
`executemany` floor measured in the same run (same columns, same page size, one commit per
page), and the peak RSS. Each N runs in its own process so peak memory is comparable:

    .venv/bin/python -m bench.ingest --ns 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from connectors.alif.constants import ALIF_INSTITUTION
from connectors.credentials import Credentials
from connectors.factory import open_connector
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sync import SyncEngine
from ledger import connections
from ledger.db import create_engine, session_factory
from ledger.models import Transaction, metadata, table

RESULTS = Path(__file__).parent / "results"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


async def _sync(n: int, page_size: int, workdir: Path) -> dict[str, Any]:
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    customer = probe.customers[0]
    per_account = max(1, n // len(probe.accounts_of(customer.username)))
    app = create_app(
        SandboxConfig(seed=1, customers=1, as_of=AS_OF, transactions_per_account=per_account)
    )
    bank = app.state.bank
    total = sum(bank.count_transactions(a.id) for a in bank.accounts_of(customer.username))

    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'ledger.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=customer.phone,
            institution=ALIF_INSTITUTION,
            provider="alif",
            base_url="http://sandbox",
            bank_id=bank.bank_id,
            credentials_encrypted=b"-",
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
    await engine.dispose()
    return {
        "transactions": total,
        "status": report.status,
        "seconds": round(elapsed, 3),
        "transactions_per_second": round(total / elapsed),
        "write_seconds": round(sync.write_seconds, 3),
    }


def _floor(n: int, page_size: int, workdir: Path) -> float:
    """Raw sqlite3 executemany of n rows into the real `ledger_transaction` table (same
    columns, same indexes), a commit per page: the ledger's work without our code."""
    ledger_tx = table(Transaction)
    columns = [c.name for c in ledger_tx.columns if c.name != "id"]
    db = sqlite3.connect(workdir / "floor.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    dialect = sqlite.dialect()
    db.execute(str(CreateTable(ledger_tx).compile(dialect=dialect)))
    for index in ledger_tx.indexes:
        db.execute(str(CreateIndex(index).compile(dialect=dialect)))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    row = {c: None for c in columns} | {
        "connection_id": 1,
        "account_id": 1,
        "status": "BOOKED",
        "booking_date": "2026-01-01",
        "amount_minor": -12050,
        "currency": "TJS",
        "type": "CARD_PAYMENT",
        "description": "Shohmansur bazaar",
        "payload_hash": "0" * 64,
        "created_at": now,
        "updated_at": now,
    }
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"INSERT INTO ledger_transaction ({names}) VALUES ({', '.join('?' for _ in columns)})"
    started = time.perf_counter()
    for start in range(0, n, page_size):
        batch = [
            tuple(f"tx-{i}" if c == "external_id" else row[c] for c in columns)
            for i in range(start, min(n, start + page_size))
        ]
        db.executemany(sql, batch)
        db.commit()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def run_one(n: int, page_size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_sync(n, page_size, Path(tmp)))
        floor = _floor(result["transactions"], page_size, Path(tmp))
    result["floor_seconds"] = round(floor, 3)
    result["write_vs_floor"] = round(result["write_seconds"] / floor, 2)
    # ru_maxrss is in KiB on Linux.
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ns", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.page_size)))
        return
    results = []
    for n in (int(x) for x in args.ns.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.ingest",
                "--one",
                str(n),
                "--page-size",
                str(args.page_size),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
