"""Alembic environment: runs migrations on the async engines the ledger uses."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from ledger.db import create_engine
from ledger.models import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def main() -> None:
    # A caller that already holds a connection (tests, `ledger.migrate`) passes it in.
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("ALIF_GRAPH_DATABASE_URL")
    if not url:
        raise SystemExit("no database URL: set ALIF_GRAPH_DATABASE_URL")
    asyncio.run(_run_async(url))


main()
