"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ledger import sqlite_driver

SQLITE_PRAGMAS = (
    # WAL lets the API read while a sync writes; foreign keys are off by default in SQLite.
    "journal_mode=WAL",
    "foreign_keys=ON",
    "synchronous=NORMAL",
    "busy_timeout=5000",
    # 64 MiB of page cache (the default is 2 MiB): upstream ids are random, so the unique
    # indexes a sync probes on every row soon outgrow a small cache.
    "cache_size=-65536",
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class DatabaseUrlError(ValueError):
    """A database URL that names no database this service can use."""


# The drivers this service runs on, by backend; a URL naming the backend alone
# (`postgres://`, `postgresql://`, `sqlite://`, as hosting providers hand them out) gets them.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
_BACKEND_ALIASES = {"postgres": "postgresql"}


def parse_url(url: str) -> URL:
    """`url` with its async driver, or DatabaseUrlError saying what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "not a database URL (expected postgresql://user@host/db or sqlite:///file.db)"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    if backend not in _ASYNC_DRIVERS:
        raise DatabaseUrlError(f"unsupported database {backend!r} (use PostgreSQL or SQLite)")
    wanted = _ASYNC_DRIVERS[backend]
    if driver and f"{backend}+{driver}" != wanted:
        raise DatabaseUrlError(f"driver {driver!r} is not supported; use {wanted}://")
    return parsed.set(drivername=wanted)


def normalize_url(url: str) -> str:
    """`url` as the engine and the migrations use it (passwords kept)."""
    return parse_url(url).render_as_string(hide_password=False)


def check_reachable_file(url: str) -> None:
    """A SQLite file's directory must exist: SQLite creates the file, not its directory,
    and a failed open leaves aiosqlite's thread calling into a closed event loop."""
    parsed = parse_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    directory = Path(database).expanduser().resolve().parent
    if not directory.is_dir():
        raise DatabaseUrlError(f"no directory {directory} for the SQLite database file")


def is_sqlite(url: str) -> bool:
    return parse_url(url).get_backend_name() == "sqlite"


# The ledger's statements are index reads and aggregates over one account's period, which
# JIT compilation only slows: a statement's 100k-row period sums cost ~60 ms to run and
# ~0.4-0.6 s to compile (the planner's estimate of a per-row check crosses
# `jit_above_cost`). Off for our sessions, whatever the server's default.
POSTGRES_SETTINGS = {"jit": "off"}


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine for `url`.

    Statement parameters never appear in errors or logs (`hide_parameters`): they are
    customers' names and amounts.

    A `search_path` query parameter on a PostgreSQL URL pins the schema (the tests give
    each test its own; a shared server can host several deployments).

    PostgreSQL sessions run without JIT (`POSTGRES_SETTINGS`).
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        # Pooled: opening a SQLite connection (a thread, a file, the pragmas) costs about as
        # much as writing a page of transactions. An engine belongs to one event loop. The
        # adapter makes a statement one trip to aiosqlite's thread (ledger/sqlite_driver.py).
        engine = create_async_engine(
            parsed, echo=echo, hide_parameters=True, module=sqlite_driver.dbapi()
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    settings = dict(POSTGRES_SETTINGS)
    schema = parsed.query.get("search_path")
    if isinstance(schema, str):
        settings["search_path"] = schema
        parsed = parsed.difference_update_query(["search_path"])
    connect_args: dict[str, Any] = {"server_settings": settings}
    return create_async_engine(
        parsed,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
