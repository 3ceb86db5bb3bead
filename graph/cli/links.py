"""`alif-graph links detect`: duplicate and own-account-transfer detection on demand over
what the ledger already holds (every sync page runs it for its own rows; docs/cli.md)."""

from __future__ import annotations

import asyncio

import typer

from graph.cli.database import ensure_schema
from graph.cli.errors import CliError
from graph.settings import get_settings
from ledger import customers
from ledger.db import create_engine, session_factory
from ledger.enrich.links import Linked, relink

links_app = typer.Typer(
    help="Duplicates and moves between own accounts (docs/fx-and-remittances.md)."
)


def register(app: typer.Typer) -> None:
    app.add_typer(links_app, name="links")


@links_app.command("detect")
def detect(
    phone: str | None = typer.Option(None, help="Only this customer's rows (+992...)."),
) -> None:
    """Link duplicates and pair own-account transfers over every stored row (idempotent:
    links stay, a row the customer marked as no duplicate stays unlinked)."""
    settings = get_settings()
    ensure_schema(settings)
    found = asyncio.run(_detect(settings.database_url, phone))
    typer.echo(
        f"links: {found.duplicates} duplicates linked, {found.internal_transfers} own-account "
        "transfers paired"
    )


async def _detect(database_url: str, phone: str | None) -> Linked:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            user_id = None
            if phone is not None:
                user_id = await customers.id_by_phone(session, phone)
                if user_id is None:
                    raise CliError(f"no customer with phone {phone}")
            return await relink(session, user_id=user_id)
    finally:
        await engine.dispose()
