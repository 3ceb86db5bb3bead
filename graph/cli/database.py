"""The database as the commands that use it find it: migrated on first use in development
on SQLite, refused in one line otherwise (`ledger.migrate.SchemaNotCurrent`)."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from graph.settings import Settings
from ledger import migrate


def redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def ensure_schema(settings: Settings) -> None:
    """Before `connect`, `sync` and `serve`: a development checkout's SQLite file is
    created and migrated; any other database must be migrated by `alif-graph db upgrade`
    (as its owner, which the application's role is not in production)."""
    url = settings.database_url
    if migrate.ensure_current(url, migrate_sqlite=not settings.is_production):
        typer.echo(f"migrated {redacted(url)} to the latest migration", err=True)
