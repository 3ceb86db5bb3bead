"""The `alif-graph` command line."""

from __future__ import annotations

import asyncio
import logging.config
from collections.abc import Callable

import typer
from alembic.util import CommandError
from rich.console import Console
from sqlalchemy.engine import make_url

from graph.cli import api as cli_api
from graph.cli import auth as cli_auth
from graph.cli import documents as cli_documents
from graph.cli import enrich as cli_enrich
from graph.cli import export as cli_export
from graph.cli import keys as cli_keys
from graph.cli import links as cli_links
from graph.cli import rates as cli_rates
from graph.cli import sync as cli_sync
from graph.cli.database import redacted as _redacted
from graph.cli.errors import BoundaryGroup, global_options
from graph.server.logs import log_config
from graph.settings import get_settings
from ledger import migrate
from ledger.roles import RoleError

# Never a traceback's local variables on a terminal: they hold tokens and customers' data.
# BoundaryGroup: the one place a failure becomes a line and an exit code (graph/cli/errors.py).
app = typer.Typer(
    cls=BoundaryGroup,
    callback=global_options,
    help="alif-graph: a consent-gated GraphQL API over an open-banking ledger.",
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema management.")
app.add_typer(db_app, name="db")
cli_sync.register(app)
cli_api.register(app)
cli_auth.register(app)
cli_documents.register(app)
cli_keys.register(app)
cli_export.register(app)
cli_rates.register(app)
cli_links.register(app)
cli_enrich.register(app)
console = Console()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target Alembic revision.")) -> None:
    """Apply the ledger migrations as the owner (ALIF_GRAPH_DATABASE_OWNER_URL, else
    ALIF_GRAPH_DATABASE_URL); with an owner URL, then grant the application role."""
    settings = get_settings()
    url = settings.migration_url
    _migration_step(lambda: migrate.upgrade(url, revision))
    console.print(f"[green]database at {_redacted(url)} is at {revision}[/green]")
    if settings.app_role is not None:
        _grant(url, settings.app_role)


@db_app.command("grant")
def db_grant(
    app_role: str | None = typer.Option(
        None, help="The application's role (default: the user of ALIF_GRAPH_DATABASE_URL)."
    ),
) -> None:
    """Grant the application role SELECT and INSERT only on the append-only tables and what
    it needs elsewhere, as the owner (PostgreSQL; idempotent)."""
    settings = get_settings()
    role = app_role or make_url(settings.database_url).username
    if not role:
        console.print("[red]error:[/red] no application role: pass --app-role")
        raise typer.Exit(1)
    _grant(settings.migration_url, role)


@db_app.command("revision")
def db_revision(
    message: str = typer.Option(..., "--message", "-m", help="What the migration changes."),
) -> None:
    """Generate a migration from the models against the owner's database URL (at head)."""
    _migration_step(lambda: migrate.revision(get_settings().migration_url, message))


def _grant(url: str, role: str) -> None:
    try:
        grants = migrate.grant_app_role(url, role)
    except RoleError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"[green]role {grants.role} in schema {grants.schema}: reads and writes "
        f"{len(grants.writable)} tables, only reads and inserts "
        f"{', '.join(grants.append_only)}[/green]"
    )


def _migration_step(step: Callable[[], None]) -> None:
    """Alembic's refusals (an unknown revision, a database behind head) are one line."""
    try:
        step()
    except CommandError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command()
def demo(
    serve: bool = typer.Option(
        True, help="Keep serving the API after the demo token (--no-serve: stop)."
    ),
) -> None:
    """Start the sandbox bank and the API; a demo customer links the bank at its own pages."""
    from graph.cli.dev.demo import run_demo

    # The process's logging, scrubbed of secrets, once: the demo's servers leave it alone.
    logging.config.dictConfig(log_config())
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    console.print(f"[green]ledger ready[/green] at {_redacted(settings.database_url)}")
    asyncio.run(run_demo(settings, serve_api=serve))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def sandbox(ctx: typer.Context) -> None:
    """Run the sandbox Alif bank (options: see `python -m connectors.sandbox --help`)."""
    from connectors.sandbox.__main__ import parse_args, parse_tls
    from connectors.sandbox.server import run

    config, host, port = parse_args(ctx.args)
    run(config, host, port, tls=parse_tls(ctx.args))


if __name__ == "__main__":  # pragma: no cover
    app()
