"""Async engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine for `url`.

    Statement parameters never appear in errors or logs (`hide_parameters`): they are
    customers' names and amounts.

    A `search_path` query parameter on a PostgreSQL URL pins the schema (the tests give
    each test its own; a shared server can host several deployments).
    """
    if is_sqlite(url):
        # Pooled: opening a SQLite connection (a thread, a file, the pragmas) costs about as
        # much as writing a page of transactions. An engine belongs to one event loop.
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    schema = parsed.query.get("search_path")
    if isinstance(schema, str):
        connect_args["server_settings"] = {"search_path": schema}
        parsed = parsed.difference_update_query(["search_path"])
    return create_async_engine(
        parsed,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
