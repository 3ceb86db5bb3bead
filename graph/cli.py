"""The `alif-graph` command line."""

from __future__ import annotations

import typer
from rich.console import Console

from graph import cli_sync
from graph.settings import get_settings
from ledger import migrate

app = typer.Typer(help="alif-graph: a consent-gated GraphQL API over an open-banking ledger.")
db_app = typer.Typer(help="Database schema management.")
app.add_typer(db_app, name="db")
cli_sync.register(app)
console = Console()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Apply the ledger migrations to ALIF_GRAPH_DATABASE_URL."""
    url = get_settings().database_url
    migrate.upgrade(url, revision)
    console.print(f"[green]database at {_redacted(url)} is at {revision}[/green]")


@app.command()
def demo() -> None:
    """Set up a local SQLite ledger and show what the demo does."""
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    console.print(f"[green]ledger ready[/green] at {_redacted(settings.database_url)}")
    console.print(
        "The demo will start the sandbox Alif bank, link a demo customer, sync their "
        "accounts and serve GraphQL on http://127.0.0.1:8000/graphql."
    )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":  # pragma: no cover
    app()
