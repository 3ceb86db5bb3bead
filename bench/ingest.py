"""Ingest benchmark: sync N sandbox transactions through the real connector path.

Reports transactions/s end to end, the ledger write stage against a raw floor measured in
the same run (same rows, same page grouping, one commit per page: sqlite3 `executemany` on
SQLite, asyncpg `COPY` on PostgreSQL), and the peak RSS. Each N runs in its own process so
peak memory is comparable:

    .venv/bin/python -m bench.ingest --ns 10000,100000,1000000
    .venv/bin/python -m bench.ingest --url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

With `--url` every repeat runs SQLite and then PostgreSQL (in schemas `bench_sync` and
`bench_floor` of that database, dropped afterwards), and reports both against their floors
and PostgreSQL's whole sync against SQLite's of the same repeat.

`--compare-enrichment` runs each size with and without the enrichment hook (alternating
processes; without it the hook is replaced by a no-op in that process only) and reports
what enrichment adds to the sync's time (docs/performance.md).

`--cpu` is the sync's own CPU: the bank's bytes recorded once, then replayed into fresh
ledgers in alternation with their floor (decoding the same bytes with orjson and the raw
insert of every page's rows); the least of each over the pairs is the figure.

`--bank-only` reads every page the sync reads from the same in-process bank through the
same connector, without the ledger: the bank's and the client's share of the sync's peak
RSS (the bank runs in the sync's process here, not in production).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import sqlalchemy
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import connectors.sync
from connectors.credentials import Credentials
from connectors.factory import institution_of, open_connector
from connectors.heap import tune_for_sync
from connectors.sandbox.__main__ import parse_args as sandbox_args
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sync import SyncEngine
from ledger import connections, revisions, sync_store, writes
from ledger.db import SQLITE_PRAGMAS, create_engine, session_factory
from ledger.models import (
    ServicePayment,
    Transaction,
    Transfer,
    TransferEvent,
    metadata,
    table,
)
from ledger.types import utcnow

RESULTS = Path(__file__).parent / "results"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


SYNC_SCHEMA, FLOOR_SCHEMA = "bench_sync", "bench_floor"


def _schema_url(url: str, schema: str) -> str:
    return make_url(url).update_query_dict({"search_path": schema}).render_as_string(False)


async def _fresh_schema(url: str, schema: str) -> None:
    """An empty schema of that name holding the ledger's tables (indexes, constraints)."""
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    engine = create_engine(_schema_url(url, schema))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()


async def _sync(n: int, page_size: int, workdir: Path, url: str | None) -> dict[str, Any]:
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    per_account = max(1, n // len(probe.accounts_of(probe.customers[0].username)))
    if url is None:
        engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'ledger.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    else:
        await _fresh_schema(url, SYNC_SCHEMA)
        engine = create_engine(_schema_url(url, SYNC_SCHEMA))
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
    # Each page written alone: a write under way while the next page is fetched would
    # count the fetch's work as the write stage's (the floor's COPY and insert run alone).
    sync, connection_id, total, status, elapsed = await _sync_bank(
        sessions, config, page_size, write_while_fetching=False
    )
    await engine.dispose()
    return {
        "connection_id": connection_id,
        "transactions": total,
        "status": status,
        "seconds": round(elapsed, 3),
        "transactions_per_second": round(total / elapsed),
        "write_seconds": round(sync.write_seconds, 3),
        "enrich_seconds": round(_HOOK_SECONDS["enrich"], 3),
        "enrich_share": round(_HOOK_SECONDS["enrich"] / elapsed, 3),
    }


async def _sync_bank(
    sessions: async_sessionmaker[AsyncSession],
    config: SandboxConfig,
    page_size: int,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = "http://sandbox",
    *,
    write_while_fetching: bool = True,
) -> tuple[SyncEngine, int, int, str, float]:
    """Link the sandbox's customer and sync them (over `transport`, else straight to the
    sandbox app): (engine, connection id, transactions, status, seconds)."""
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
            base_url=base_url,
            bank_id=bank.bank_id,
            credentials_encrypted=b"-",
        )
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    connector = open_connector(
        "alif",
        base_url,
        bank.bank_id,
        creds,
        transport=transport or httpx.ASGITransport(app=app),
        page_size=page_size,
    )
    sync = SyncEngine(sessions, write_while_fetching=write_while_fetching)
    _HOOK_SECONDS.update(enrich=0.0, links=0.0)
    started, cpu = time.perf_counter(), time.process_time()
    report = await sync.sync(connection_id, connector)
    elapsed = time.perf_counter() - started
    _CPU_SECONDS["sync"] = time.process_time() - cpu
    await connector.aclose()
    return sync, connection_id, total, report.status, elapsed


# The tables a sync's pages write, in its write order: a transfer page's transfers and their
# status steps, then a transaction page's service payments and transactions.
TRANSFER_PAGES = (table(Transfer).name, table(TransferEvent).name)
TRANSACTION_PAGES = (table(ServicePayment).name, table(Transaction).name)
# A whole sync's floor (`--cpu`, `--http`) inserts every page's rows: the sync stores them all.
WHOLE_SYNC_PAGES = (*TRANSFER_PAGES, *TRANSACTION_PAGES)


def _floor(workdir: Path, connection_id: int, paged: tuple[str, ...] = TRANSACTION_PAGES) -> float:
    """Raw sqlite3 executemany of the very rows the sync's pages stored in the `paged`
    tables (by default the transaction pages': transactions and their service payments),
    into a fresh copy of the ledger schema (same columns, indexes, constraints and foreign
    keys, the referenced accounts, cards and the rest already there), grouped into the same
    database transactions: the ledger's own work without our code.

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
    for other in metadata.sorted_tables:  # referenced tables come first
        if other.name not in paged:
            db.execute(f'INSERT INTO main."{other.name}" SELECT * FROM src."{other.name}"')
    db.commit()
    elapsed = 0.0
    _CPU_SECONDS["insert"] = 0.0
    streams = {name: _groups(db, name, connection_id) for name in paged}
    for pages in _pages_by_commit(streams):
        started, cpu = time.perf_counter(), time.process_time()
        for name, rows in pages:
            marks = ", ".join("?" for _ in rows[0])
            db.executemany(f'INSERT INTO main."{name}" VALUES ({marks})', rows)
        db.commit()
        elapsed += time.perf_counter() - started
        _CPU_SECONDS["insert"] += time.process_time() - cpu
    db.close()
    return elapsed


def _pages_by_commit(
    streams: dict[str, Iterator[tuple[Any, list[Any]]]],
) -> Iterator[list[tuple[str, list[Any]]]]:
    """The stored rows of each table (`streams`: name -> its rows grouped by created_at, in
    id order), grouped by the sync page that wrote them: a page stamps all its rows with one
    created_at, and ids grow page after page. Streams: one page of each table at a time."""
    names = list(streams)
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
    """The stored rows of `name`, grouped by the created_at of the page that wrote them
    (a transfer's status steps by their transfer's)."""
    if name == table(TransferEvent).name:
        query = (
            'SELECT e.*, t.created_at FROM src."transfer_event" e'
            ' JOIN src."transfer" t ON t.id = e.transfer_id'
            " WHERE t.connection_id = ? ORDER BY e.id"
        )
    else:
        query = f'SELECT *, created_at FROM src."{name}" WHERE connection_id = ? ORDER BY id'
    rows = db.cursor().execute(query, (connection_id,))
    for stamp, group in groupby(rows, key=itemgetter(-1)):
        yield stamp, [row[:-1] for row in group]


async def _floor_pg(url: str, connection_id: int) -> float:
    """Raw asyncpg `COPY` of the very rows the sync stored (transactions and their service
    payments) into a fresh copy of the schema (same columns, indexes, constraints, foreign
    keys; the referenced rows copied first), one database transaction per sync page, as on
    SQLite."""
    await _fresh_schema(url, FLOOR_SCHEMA)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    db = await asyncpg.connect(dsn)
    paged = TRANSACTION_PAGES
    for other in metadata.sorted_tables:  # referenced tables come first
        if other.name not in paged:
            await db.execute(
                f'INSERT INTO {FLOOR_SCHEMA}."{other.name}" '
                f'SELECT * FROM {SYNC_SCHEMA}."{other.name}"'
            )
    streams = {}
    for name in paged:
        query = f'SELECT * FROM {SYNC_SCHEMA}."{name}" WHERE connection_id = $1 ORDER BY id'
        rows = [tuple(r) for r in await db.fetch(query, connection_id)]
        columns = [c.name for c in metadata.tables[name].columns]
        stamp_at = columns.index("created_at")
        streams[name] = ((k, list(g)) for k, g in groupby(rows, key=itemgetter(stamp_at)))
    elapsed = 0.0
    for pages in _pages_by_commit(streams):
        started = time.perf_counter()
        async with db.transaction():
            for name, records in pages:
                await db.copy_records_to_table(name, records=records, schema_name=FLOOR_SCHEMA)
        elapsed += time.perf_counter() - started
    for schema in (SYNC_SCHEMA, FLOOR_SCHEMA):
        await db.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await db.close()
    return elapsed


async def _no_enrichment(*_: Any, **__: Any) -> int:
    return 0


# CPU seconds (time.process_time) of the latest `_sync_bank`'s sync, of the floor's
# inserts and of its decode.
_CPU_SECONDS = {"sync": 0.0, "insert": 0.0, "decode": 0.0}
# Seconds inside the sync's per-page hooks during the latest `_sync_bank`.
_HOOK_SECONDS = {"enrich": 0.0, "links": 0.0}


def _timed_hook() -> None:
    """Time the sync's per-page hooks (connectors/sync.py calls each once per page): the
    enrichment and the duplicate/own-transfer detection, both of which the floors skip."""
    for key, module, name in (
        ("enrich", connectors.sync.enrichment, "seed_page"),
        ("enrich", connectors.sync.enrichment, "enrich_page"),
        ("links", connectors.sync.links, "detect_links"),
    ):
        setattr(module, name, _timed(getattr(module, name), key))


def _timed(hook: Callable[..., Awaitable[Any]], key: str) -> Callable[..., Awaitable[Any]]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await hook(*args, **kwargs)
        finally:
            _HOOK_SECONDS[key] += time.perf_counter() - started

    return timed


def run_one(
    n: int, page_size: int, url: str | None = None, *, enrich: bool = True
) -> dict[str, Any]:
    if enrich:
        _timed_hook()
    else:
        connectors.sync.enrichment.seed_page = _no_enrichment  # type: ignore[assignment]
        connectors.sync.enrichment.enrich_page = _no_enrichment  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(_sync(n, page_size, Path(tmp), url))
        # The sync's peak, before the floor runs (ru_maxrss is in KiB on Linux).
        result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        connection_id = result.pop("connection_id")
        if url is None:
            floor = _floor(Path(tmp), connection_id)
        else:
            floor = asyncio.run(_floor_pg(url, connection_id))
    result["database"] = "sqlite" if url is None else "postgresql"
    result["floor_seconds"] = round(floor, 3)
    result["write_vs_floor"] = round(result["write_seconds"] / floor, 2)
    return result


async def _page_sizes(url: str, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    """Where the bulk path starts to pay: one transaction page of `size` new rows, then the
    same page again (all unchanged), through each path in turn, into a ledger a small sync
    filled (its stored rows, with new ids, are the pages). Medians of `repeat`, in ms."""
    await _fresh_schema(url, SYNC_SCHEMA)
    engine = create_engine(_schema_url(url, SYNC_SCHEMA))
    sessions = session_factory(engine)
    config = SandboxConfig(seed=2, customers=1, as_of=AS_OF, transactions_per_account=400)
    await _sync_bank(sessions, config, 200)
    tx = table(Transaction)
    async with sessions() as s:
        stored = (await s.execute(select(tx).order_by(tx.c.id).limit(1000))).mappings().all()
    dropped = {"id", "payload_hash", "created_at", "updated_at"}
    templates = [{k: v for k, v in row.items() if k not in dropped} for row in stored]
    serial = 0
    results = []
    for size in sizes:
        times: dict[str, list[float]] = {}
        for _ in range(repeat):
            for path, least in (("multi_row", 10**9), ("bulk", 1)):
                writes.BULK_MIN_ROWS = least
                serial += 1
                page = [
                    dict(templates[i % len(templates)], external_id=f"bench-{serial}-{i}")
                    for i in range(size)
                ]
                for kind in ("new", "unchanged"):
                    started = time.perf_counter()
                    async with sessions.begin() as s:
                        await revisions.write_transactions(
                            s, page, run_id=None, links=sync_store.LINKS, now=utcnow()
                        )
                    times.setdefault(f"{path}_{kind}_ms", []).append(
                        (time.perf_counter() - started) * 1000
                    )
        result: dict[str, Any] = {"rows": size}
        result.update((k, round(statistics.median(v), 2)) for k, v in times.items())
        results.append(result)
        print(json.dumps(result))
    await engine.dispose()
    admin = create_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{SYNC_SCHEMA}" CASCADE'))
    await admin.dispose()
    return results


# --- `--bank-only`: the in-process bank's share of the peak RSS --------------------------


async def _bank_walk(n: int, page_size: int) -> int:
    """Every transfer and transaction page of the customer `_sync` syncs, read from the
    same in-process bank through the same connector (client, mapping), no ledger: what the
    sync's process holds for the bank and the client. The records read."""
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    per_account = max(1, n // len(probe.accounts_of(probe.customers[0].username)))
    config = SandboxConfig(seed=1, customers=1, as_of=AS_OF, transactions_per_account=per_account)
    app = create_app(config)
    bank = app.state.bank
    customer = bank.customers[0]
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    transport = httpx.ASGITransport(app=app)
    connector = open_connector(
        "alif", "http://sandbox", bank.bank_id, creds, transport=transport, page_size=page_size
    )
    tune_for_sync()
    records = 0
    accounts = (await connector.accounts()).records
    for account in accounts:
        async for transfers in connector.transfer_pages(account.external_id):
            records += len(transfers.records)
    for account in accounts:
        offset = 0
        while True:
            page = await connector.transaction_page(
                account.external_id, since=None, until=None, offset=offset, limit=page_size
            )
            if not page.positions:
                break
            records += len(page.records)
            offset += len(page.positions)
    await connector.aclose()
    return records


def run_bank(n: int, page_size: int) -> dict[str, Any]:
    records = asyncio.run(_bank_walk(n, page_size))
    return {
        "transactions": n,
        "records_read": records,
        "bank_only_peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


# --- `--cpu`: the sync's own CPU per transaction, without the bank's ---------------------


# A request as sent (method, URL, headers, body) and the bytes it was answered with.
_Asked = tuple[str, str, list[tuple[str, str]], bytes, bytes]


class _Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the bank and keeps each response (status, headers, bytes) in
    the order asked, per (method, URL), and the requests in the order sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.responses: dict[tuple[str, str], list[tuple[int, list[Any], bytes]]] = {}
        self.asked: list[_Asked] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        await response.aclose()
        key = (request.method, str(request.url))
        self.responses.setdefault(key, []).append(
            (response.status_code, response.headers.multi_items(), body)
        )
        sent = (request.method, str(request.url), request.headers.multi_items())
        self.asked.append((*sent, request.content, body))
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class _Replay(httpx.AsyncBaseTransport):
    """Answers each request with the recorded bytes of the same request: the client, the
    mapping and the ledger run as against the bank, the bank costs nothing."""

    def __init__(
        self, responses: dict[tuple[str, str], list[tuple[int, list[Any], bytes]]]
    ) -> None:
        self.left = {key: list(answers) for key, answers in responses.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answers = self.left[(request.method, str(request.url))]  # KeyError: not replayable
        status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(status, headers=headers, content=body)


# Replays (each with its floor) per `--cpu` process: the least of each is the figure.
REPLAYS = 3


async def _cpu_sync(n: int, page_size: int, workdir: Path) -> dict[str, Any]:
    """Sync N sandbox transactions once over a recording transport (into a ledger of its
    own: also the warm-up), then `REPLAYS` times, timed, over a replay of those bytes into
    a fresh ledger, each followed by its floor against that ledger's rows.

    The machine is shared: other tenants only ever add time, to the sync or to the floor,
    and in runs of one pair each the floor alone moved 0.31-0.67 s and a run's ratio
    2.0-4.2 (docs/performance.md). The least sync time over the least floor time of
    alternating pairs is the figure least moved by them (as `timeit` takes the least)."""
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    per_account = max(1, n // len(probe.accounts_of(probe.customers[0].username)))
    config = SandboxConfig(seed=1, customers=1, as_of=AS_OF, transactions_per_account=per_account)
    tune_for_sync()
    recorder = _Recorder(httpx.ASGITransport(app=create_app(config)))
    await _sync_into(workdir / "record", config, page_size, recorder)
    responses = recorder.responses
    # The bank, its generated rows, and the recording sync's leftovers are gone before the
    # replays, as from a sync's own process: kept, every full collection of the
    # collector's would walk them (~0.1 s each) inside a replay's time.
    del recorder, probe
    tune_for_sync()
    bodies = [body for answers in responses.values() for *_, body in answers]
    pairs = []
    for replay in range(REPLAYS):
        where = workdir / f"replay{replay}"
        sync, connection_id, total, status, elapsed = await _sync_into(
            where, config, page_size, _Replay(responses)
        )
        figures = {
            "seconds": elapsed,
            "cpu_seconds": _CPU_SECONDS["sync"],
            "write_seconds": sync.write_seconds,
            "enrich_seconds": _HOOK_SECONDS["enrich"],
            "links_seconds": _HOOK_SECONDS["links"],
        }
        started, cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            orjson.loads(body)
        figures["decode_seconds"] = time.perf_counter() - started
        decode_cpu = time.process_time() - cpu
        figures["insert_seconds"] = _floor(where, connection_id, WHOLE_SYNC_PAGES)
        figures["floor_cpu_seconds"] = decode_cpu + _CPU_SECONDS["insert"]
        pairs.append(figures)
    return {
        "transactions": total,
        "status": status,
        "response_mib": round(sum(map(len, bodies)) / 2**20, 1),
        "pairs": pairs,
    }


async def _sync_into(
    workdir: Path, config: SandboxConfig, page_size: int, transport: httpx.AsyncBaseTransport
) -> tuple[SyncEngine, int, int, str, float]:
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'ledger.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        return await _sync_bank(session_factory(engine), config, page_size, transport)
    finally:
        await engine.dispose()


def run_cpu(n: int, page_size: int) -> dict[str, Any]:
    _timed_hook()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("record", *(f"replay{i}" for i in range(REPLAYS))):
            (Path(tmp) / name).mkdir()
        result = asyncio.run(_cpu_sync(n, page_size, Path(tmp)))
    pairs = result.pop("pairs")
    for pair in pairs:
        pair["floor_seconds"] = pair["decode_seconds"] + pair["insert_seconds"]
    hooked = ("enrich_seconds", "links_seconds")  # taken from the fastest replay below
    least = {key: min(pair[key] for pair in pairs) for key in pairs[0] if key not in hooked}
    fastest = min(pairs, key=lambda pair: pair["seconds"])
    hooks = fastest["enrich_seconds"] + fastest["links_seconds"]
    per_tx = 1e6 / result["transactions"]
    result.update(
        database="sqlite",
        replays=len(pairs),
        **{key: round(value, 3) for key, value in least.items()},
        us_per_transaction=round(least["seconds"] * per_tx, 1),
        floor_us_per_transaction=round(least["floor_seconds"] * per_tx, 1),
        # The hooks' share of the fastest replay: what the floor does not do either
        # (categorizing, duplicate/own-transfer detection).
        enrich_seconds=round(fastest["enrich_seconds"], 3),
        links_seconds=round(fastest["links_seconds"], 3),
        sync_vs_floor=round(least["seconds"] / least["floor_seconds"], 2),
        without_hooks_vs_floor=round((fastest["seconds"] - hooks) / least["floor_seconds"], 2),
        # The same in CPU time (every thread of the process).
        cpu_vs_floor_cpu=round(least["cpu_seconds"] / least["floor_cpu_seconds"], 2),
        pair_ratios=[round(pair["seconds"] / pair["floor_seconds"], 2) for pair in pairs],
    )
    return result


def _replay_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of `--cpu` or `--http` runs, each run's own ratio, the load average."""
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float) and k != "transactions"]
    return {
        "transactions": runs[0]["transactions"],
        "runs": len(runs),
        **{key: round(statistics.median(run[key] for run in runs), 3) for key in keys},
        "sync_vs_floor_each": [run["sync_vs_floor"] for run in runs],
        **(
            {"cpu_vs_floor_cpu_each": [run["cpu_vs_floor_cpu"] for run in runs]}
            if "cpu_vs_floor_cpu" in runs[0]
            else {}
        ),
        "status": sorted({run["status"] for run in runs}),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- `--http`: a whole sync against the sandbox in its own process, over real HTTP --------


@contextmanager
def _sandbox_process(argv: list[str]) -> Iterator[str]:
    """A fresh sandbox bank served by its own process (`python -m connectors.sandbox`);
    yields its base URL once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "connectors.sandbox", "--port", str(port), *argv]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base_url + "/", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _plain_walk(base_url: str, asked: list[_Asked]) -> tuple[float, float]:
    """The floor's fetch: the very requests the sync sent (same order, same URLs and
    headers; the login's token swapped for the fresh bank's) through a plain httpx client,
    each body decoded with orjson. (seconds, of which decoding)."""
    tokens: dict[str, str] = {}
    decode = 0.0
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        started = time.perf_counter()
        for method, url, headers, content, answer in asked:
            for old, new in tokens.items():
                headers = [(k, v.replace(old, new)) for k, v in headers]
            path = httpx.URL(url).raw_path.decode()
            response = await client.request(method, path, headers=headers, content=content)
            body = response.content
            begun = time.perf_counter()
            parsed = orjson.loads(body)
            decode += time.perf_counter() - begun
            if isinstance(parsed, dict) and "token" in parsed:
                tokens[orjson.loads(answer)["token"]] = parsed["token"]
        return time.perf_counter() - started, decode


def run_http(n: int, page_size: int, latency_ms: int = 0) -> dict[str, Any]:
    """Sync N transactions from a sandbox process over HTTP, then walk the same requests
    with a plain client against a fresh sandbox process, then the raw insert. Both banks
    answer each request `latency_ms` late, as one across a network would."""
    _timed_hook()
    probe = create_app(SandboxConfig(seed=1, customers=1, as_of=AS_OF)).state.bank
    per_account = max(1, n // len(probe.accounts_of(probe.customers[0].username)))
    argv = ["--seed=1", "--customers=1", f"--transactions-per-account={per_account}"]
    argv += [f"--as-of={AS_OF.date().isoformat()}", "--no-admin", f"--latency-ms={latency_ms}"]
    config = sandbox_args(argv)[0]
    tune_for_sync()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        recorder = _Recorder(httpx.AsyncHTTPTransport())
        with _sandbox_process(argv) as base_url:
            sync, connection_id, total, status, elapsed = asyncio.run(
                _http_sync(workdir, config, page_size, recorder, base_url)
            )
        with _sandbox_process(argv) as base_url:
            fetch, decode = asyncio.run(_plain_walk(base_url, recorder.asked))
        insert = _floor(workdir, connection_id, WHOLE_SYNC_PAGES)
    floor = fetch + insert
    return {
        "database": "sqlite",
        "transactions": total,
        "status": status,
        "latency_ms": latency_ms,
        "requests": len(recorder.asked),
        "seconds": round(elapsed, 3),
        "transactions_per_second": round(total / elapsed),
        "write_seconds": round(sync.write_seconds, 3),
        "enrich_seconds": round(_HOOK_SECONDS["enrich"], 3),
        "links_seconds": round(_HOOK_SECONDS["links"], 3),
        "fetch_seconds": round(fetch, 3),
        "decode_seconds": round(decode, 3),
        "insert_seconds": round(insert, 3),
        "floor_seconds": round(floor, 3),
        "sync_vs_floor": round(elapsed / floor, 2),
    }


async def _http_sync(
    workdir: Path,
    config: SandboxConfig,
    page_size: int,
    recorder: _Recorder,
    base_url: str,
) -> tuple[SyncEngine, int, int, str, float]:
    # Warm up in process (another bank, its own file), as a worker that has synced before.
    warm = create_engine(f"sqlite+aiosqlite:///{workdir / 'warm.db'}")
    async with warm.begin() as conn:
        await conn.run_sync(metadata.create_all)
    small = SandboxConfig(seed=2, customers=1, as_of=AS_OF, transactions_per_account=2 * page_size)
    await _sync_bank(session_factory(warm), small, page_size)
    await warm.dispose()
    engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'ledger.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    result = await _sync_bank(session_factory(engine), config, page_size, recorder, base_url)
    await engine.dispose()
    return result


def _sizes(text: str) -> list[int]:
    """`--ns` and `--page-sizes`: positive whole numbers, comma-separated."""
    try:
        sizes = [int(x) for x in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of sizes >= 1")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ns", type=_sizes, default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    parser.add_argument(
        "--url", help="a PostgreSQL database: run it too, beside SQLite, in every repeat"
    )
    parser.add_argument(
        "--page-sizes",
        type=_sizes,
        help="with --url: time single pages of these sizes through both PostgreSQL paths",
    )
    parser.add_argument(
        "--multi-row",
        action="store_true",
        help="PostgreSQL through the multi-row INSERT only, as before the COPY path",
    )
    parser.add_argument(
        "--compare-enrichment", action="store_true", help="with and without the enrichment hook"
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="the sync's own CPU: replayed bank bytes against decode + raw insert (SQLite)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="a whole sync from a sandbox process over HTTP against a plain client + raw insert",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="with --http: the bank answers each request this late (a network between)",
    )
    parser.add_argument(
        "--bank-only",
        action="store_true",
        help="the peak RSS of the in-process bank + client alone, every page read, no ledger",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-enrich", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.page_sizes:
        if args.url is None:
            parser.error("--page-sizes needs --url")
        sizes = args.page_sizes
        found = asyncio.run(_page_sizes(args.url, sizes, args.repeat))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "ingest_page_sizes.json").write_text(json.dumps(found, indent=2) + "\n")
        return
    if args.multi_row:
        writes.BULK_MIN_ROWS = 10**9
    if args.latency_ms and not args.http:
        parser.error("--latency-ms needs --http")
    if args.bank_only:  # each size in its own process, as the syncs are
        if args.one:
            print(json.dumps(run_bank(args.one, args.page_size)))
            return
        for n in args.ns:
            print(json.dumps(_run_process(n, args.page_size, mode="--bank-only")))
        return
    if args.one and args.cpu:
        print(json.dumps(run_cpu(args.one, args.page_size)))
        return
    if args.one and args.http:
        print(json.dumps(run_http(args.one, args.page_size, args.latency_ms)))
        return
    if args.cpu or args.http:
        mode = "--cpu" if args.cpu else "--http"
        found = []
        for n in args.ns:
            runs = [
                _run_process(n, args.page_size, mode=mode, latency_ms=args.latency_ms)
                for _ in range(args.repeat)
            ]
            found.append(_replay_summary(runs))
            print(json.dumps(found[-1]))
        _save(found, f"ingest_{mode[2:]}{'_latency' if args.latency_ms else ''}.json")
        return
    if args.one:
        print(json.dumps(run_one(args.one, args.page_size, args.url, enrich=not args.no_enrich)))
        return
    if args.compare_enrichment:
        for n in args.ns:
            print(json.dumps(_compare(n, args.page_size, args.repeat)))
        return
    results = []
    for n in args.ns:
        if args.url is None:
            runs = [_run_process(n, args.page_size) for _ in range(args.repeat)]
            result = _summary(runs)
        else:
            pairs = [
                (
                    _run_process(n, args.page_size),
                    _run_process(n, args.page_size, args.url, args.multi_row),
                )
                for _ in range(args.repeat)
            ]
            result = _compared(pairs)
        results.append(result)
        print(json.dumps(result))
    name = "ingest_both_multi_row.json" if args.multi_row else "ingest_both.json"
    _save(results, "ingest.json" if args.url is None else name)


def _compared(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Both databases' summaries and PostgreSQL's whole sync over SQLite's, run by run."""
    each = [round(pg["seconds"] / lite["seconds"], 2) for lite, pg in pairs]
    return {
        "transactions": pairs[0][0]["transactions"],
        "sqlite": _summary([lite for lite, _ in pairs]),
        "postgresql": _summary([pg for _, pg in pairs]),
        "postgresql_vs_sqlite": statistics.median(each),
        "postgresql_vs_sqlite_each": each,
    }


def _save(results: list[dict[str, Any]], name: str) -> None:
    """Merge into the results file by size, so sizes can be run (and repeated) apart."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    saved = json.loads(path.read_text()) if path.exists() else []
    by_size = {r["transactions"]: r for r in saved if "runs" in r or "sqlite" in r}
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


def _run_process(
    n: int,
    page_size: int,
    url: str | None = None,
    multi_row: bool = False,
    *,
    enrich: bool = True,
    mode: str | None = None,
    latency_ms: int = 0,
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ingest", f"--one={n}", f"--page-size={page_size}"]
    if mode is not None:
        command.append(mode)
    if latency_ms:
        command.append(f"--latency-ms={latency_ms}")
    if not enrich:
        command.append("--no-enrich")
    if url is not None:
        command.append(f"--url={url}")
    if multi_row:
        command.append("--multi-row")
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
