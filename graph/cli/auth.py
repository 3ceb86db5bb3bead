"""`alif-graph client create`, `alif-graph audit` and `alif-graph retention run`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.oauth import clients
from graph.auth.scopes import parse_scopes
from graph.settings import get_settings
from ledger import audit, consents, retention
from ledger.db import create_engine, session_factory
from ledger.types import utcnow

T = TypeVar("T")
console = Console()
client_app = typer.Typer(help="Apps that may ask customers for consent.")
retention_app = typer.Typer(help="Purging the data of customers whose consents ended.")


async def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(get_settings().database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await work(session)
    finally:
        await engine.dispose()


def _moment(text: str | None) -> datetime | None:
    """An ISO date (midnight UTC) or date-time (UTC when no zone is given)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            raise typer.BadParameter(f"not an ISO date or date-time: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@client_app.command("create")
def client_create(
    name: str = typer.Option(..., "--name", help="The app's name, as customers will see it."),
    redirect_uri: list[str] = typer.Option(
        ..., "--redirect-uri", help="An exact redirect URI (repeat for several)."
    ),
    scopes: str = typer.Option("", "--scopes", help="Allowed scopes (default: all)."),
) -> None:
    """Register an app; prints its client id and secret. The secret is shown only now."""
    try:
        allowed = parse_scopes(scopes) if scopes else None
        new = asyncio.run(
            _in_session(
                lambda s: clients.create(s, name=name, redirect_uris=redirect_uri, scopes=allowed)
            )
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    console.print(f"client_id     {new.client.client_id}")
    console.print(f"client_secret {new.secret}")
    console.print(f"scopes        {' '.join(sorted(new.client.allowed_scopes))}")
    console.print("[yellow]Store the secret now: it is kept only as a hash.[/yellow]")


def audit_command(
    consent: int = typer.Option(None, "--consent", help="Only this consent's events."),
    from_: str = typer.Option(None, "--from", help="From (ISO date or date-time, inclusive)."),
    to: str = typer.Option(None, "--to", help="To (ISO date or date-time, exclusive)."),
    limit: int = typer.Option(1000, min=1, help="At most this many events."),
) -> None:
    """Read the audit trail (for auditors): one line per event, oldest first."""
    since, until = _moment(from_), _moment(to)
    rows = asyncio.run(
        _in_session(
            lambda s: audit.events(s, consent_id=consent, since=since, until=until, limit=limit)
        )
    )
    for row in rows:
        typer.echo(
            "\t".join(
                str(v if v is not None else "-")
                for v in (
                    row.at.isoformat(),
                    row.outcome,
                    row.operation,
                    row.client_id,
                    row.user_id,
                    row.consent_id,
                    row.scopes or "-",
                    row.object_count,
                    row.object_digest,
                    row.request_id,
                    row.ip,
                )
            )
        )


@retention_app.command("run")
def retention_run(
    window_days: int = typer.Option(
        None, "--window-days", min=0, help="Days after a consent ends (default: settings)."
    ),
) -> None:
    """Mark lapsed consents EXPIRED and purge fetched data past the retention window.
    Consents and the audit trail are kept."""
    days = get_settings().retention_window_days if window_days is None else window_days

    async def work(session: AsyncSession) -> tuple[int, dict[int, int]]:
        now = utcnow()
        expired = await consents.expire_due(session, now=now)
        return expired, await retention.run(session, now=now, window=timedelta(days=days))

    expired, purged = asyncio.run(_in_session(work))
    console.print(f"{expired} consent(s) marked expired")
    console.print(
        f"{len(purged)} customer(s) purged, {sum(purged.values())} row(s) deleted "
        f"(window {days} days)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(client_app, name="client")
    app.add_typer(retention_app, name="retention")
    app.command("audit")(audit_command)
