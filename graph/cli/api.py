"""`alif-graph serve`, `alif-graph schema` and `alif-graph token`: running the API."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from datetime import timedelta
from typing import Literal

import typer
import uvicorn

from graph.auth.scopes import ALL_SCOPES, parse_scopes
from graph.cli.cores import usable_cores
from graph.cli.database import ensure_schema
from graph.cli.dev.tokens import DevelopmentToken, issue_development_token
from graph.cli.errors import CliError, ExitCode
from graph.core.errors import BadUserInput
from graph.relay.ids import pk_of
from graph.schema import build_schema
from graph.server.app import check_database_role
from graph.server.logs import log_config
from graph.server.secrets import server_keys
from graph.settings import Settings, get_settings
from ledger.db import create_engine, session_factory
from ledger.roles import RoleError
from ledger.types import utcnow


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(schema)
    app.command()(token)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    workers: int | None = typer.Option(
        None,
        min=1,
        help="Worker processes (default: one per core in production with Redis, else 1).",
    ),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in development) and the REST endpoints."""
    settings = get_settings()
    if workers is not None and workers > 1 and not settings.redis_url:
        raise CliError(
            f"--workers {workers} needs ALIF_GRAPH_REDIS_URL: without Redis each worker keeps "
            "its own consent flows and rate limits, so a customer's next step lands on a "
            "worker that never saw the first. Set it, or serve with one worker",
            ExitCode.CONFIGURATION,
        )
    server_keys(settings)  # production without a secret: one line now, not in each worker
    ensure_schema(settings)
    refuse_unsafe_role(settings)
    if workers is None:  # after the refusals, so a refusal stays the only line
        workers = default_workers(settings)
    loop, http = event_loop_options()
    uvicorn.run(
        "graph.server.runtime:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop=loop,
        http=http,
        # The app takes forwarded headers from settings.trusted_proxies only
        # (graph.server.app.trusted_proxies); uvicorn's default would trust 127.0.0.1.
        proxy_headers=False,
        log_config=log_config(),
    )


def default_workers(settings: Settings) -> int:
    """One worker per usable core (`graph.cli.cores`) in production, one in development.
    Without Redis, production also runs one (each worker would keep its own consent flows
    and rate limits, the rule `--workers` above 1 follows), and says so on stderr."""
    if not settings.is_production:
        return 1
    cores = usable_cores()
    if cores > 1 and not settings.redis_url:
        typer.echo(
            f"serving with 1 worker, not {cores} (one per core): set ALIF_GRAPH_REDIS_URL "
            "for several",
            err=True,
        )
        return 1
    return cores


def event_loop_options() -> tuple[Literal["uvloop", "asyncio"], Literal["httptools", "h11"]]:
    """uvloop and httptools (installed by uvicorn[standard]) named explicitly, so a missing
    one is a choice seen here rather than uvicorn's silent "auto"; asyncio and h11 else."""
    installed = importlib.util.find_spec
    return (
        "uvloop" if installed("uvloop") else "asyncio",
        "httptools" if installed("httptools") else "h11",
    )


def refuse_unsafe_role(settings: Settings) -> None:
    """Exit with one line when production would connect as a role that could erase the
    audit trail (graph.server.app.check_database_role)."""
    try:
        asyncio.run(check_database_role(settings))
    except RoleError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def schema() -> None:
    """Print the GraphQL schema (SDL); `schema.graphql` in the repository is this output."""
    sys.stdout.write(build_schema(Settings()).as_str() + "\n")


def token(
    phone: str = typer.Option(..., help="The customer's phone number, +992XXXXXXXXX."),
    scopes: str = typer.Option("", help="Comma-separated scopes; all of them by default."),
    accounts: str = typer.Option(
        "", help="Comma-separated account IDs (global or numeric); all accounts by default."
    ),
    ttl: int = typer.Option(0, min=0, help="Token lifetime in seconds (default: 10 minutes)."),
) -> None:
    """Print a development access token for a customer, backed by a development consent.

    Refused when ALIF_GRAPH_ENV=production. The token goes to stdout alone, so
    `TOKEN=$(alif-graph token --phone ...)` works; details go to stderr.
    """
    settings = get_settings()
    if settings.is_production:
        typer.echo("development tokens are refused in production", err=True)
        raise typer.Exit(2)
    try:
        granted = parse_scopes(scopes) if scopes else frozenset(ALL_SCOPES)
        account_ids = [_account_pk(a) for a in accounts.split(",") if a.strip()]
        lifetime = timedelta(seconds=ttl or settings.access_token_ttl_seconds)
        issued = asyncio.run(_issue(settings, phone, granted, account_ids, lifetime))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"customer {issued.user_id}{' (new)' if issued.created_user else ''}, "
        f"consent {issued.consent_id}, scopes {' '.join(sorted(granted))}, "
        f"valid {int(lifetime.total_seconds())} s",
        err=True,
    )
    typer.echo(issued.token)


def _account_pk(text: str) -> int:
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        return pk_of(text, "Account")
    except BadUserInput as exc:
        raise ValueError(exc.message) from None


async def _issue(
    settings: Settings, phone: str, scopes: frozenset[str], account_ids: list[int], ttl: timedelta
) -> DevelopmentToken:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await issue_development_token(
                session,
                phone=phone,
                scopes=scopes,
                account_ids=account_ids,
                keys=server_keys(settings),
                now=utcnow(),
                ttl=ttl,
            )
    finally:
        await engine.dispose()
