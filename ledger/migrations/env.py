"""Alembic environment: runs migrations on the async engines the ledger uses."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from ledger.db import create_engine
from ledger.models import metadata
from ledger.types import UTCDateTime

config = context.config


def _render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """Write ledger column types as the plain SQLAlchemy types they are in DDL, so a
    generated migration is frozen: it must import no live code that may change later."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_item=_render_item,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    # Disposed on failure too (e.g. autogenerate against a database behind head): a
    # connection left to the garbage collector calls back into this closed loop later.
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    # A caller that already holds a connection (tests, `ledger.migrate`) passes it in.
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # The URL comes from the caller (`alif-graph db upgrade` / `db revision`, which read it
    # from the settings), never from the environment here: one path reads configuration.
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database URL: run `alif-graph db upgrade` or `alif-graph db revision`")
    asyncio.run(_run_async(url))


main()
