"""`alif-graph enrich run [--connection ID] [--full]`: enrichment of stored transactions.

A sync enriches each page it writes; this re-runs enrichment on demand: after an upgrade
(the migration adds the columns, this fills them), or with `--full` after the tables of
ledger/enrich/ changed. Deterministic and idempotent; the customer's overrides and rules
are never touched (docs/enrichment.md).
"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from graph.cli.database import ensure_schema
from graph.cli.errors import CliError, ExitCode
from graph.settings import get_settings
from ledger.db import create_engine, session_factory
from ledger.enrich import pipeline
from ledger.models import Connection

console = Console()
enrich_app = typer.Typer(help="Enrichment: categories of stored transactions.")


def register(app: typer.Typer) -> None:
    app.add_typer(enrich_app, name="enrich")


@enrich_app.command("run")
def run(
    connection: int | None = typer.Option(
        None, "--connection", help="Only this connection's accounts (default: all)."
    ),
    full: bool = typer.Option(
        False, "--full", help="Every row, not only those not enriched since they changed."
    ),
) -> None:
    """Categorize stored transactions that are new or changed since they were enriched."""
    settings = get_settings()
    ensure_schema(settings)
    done = asyncio.run(_run(settings.database_url, connection, full))
    console.print(f"enriched {done} transactions", markup=False)


async def _run(database_url: str, connection_id: int | None, full: bool) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            if connection_id is not None:
                known = await session.get(Connection, connection_id)
                if known is None:
                    raise CliError(f"no connection {connection_id}", ExitCode.FAILED)
            accounts = await pipeline.account_ids_of(session, connection_id)
            return await pipeline.enrich_stored(session, accounts, full=full)
    finally:
        await engine.dispose()
