"""`alif-graph connect` and `alif-graph sync`: linking a bank and pulling its data."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from connectors import credentials
from connectors.bank_revocation import Outcome, revoke_pending
from connectors.errors import UpstreamConfigurationError
from connectors.factory import DEFAULT_BANK_ID, PROVIDERS, institution_of, open_connector
from connectors.heap import tune_for_sync
from connectors.keys import Keyring
from connectors.sync import SyncAlreadyRunning, SyncEngine, SyncReport
from connectors.tls import BankTls
from graph.bank_tls import bank_tls
from graph.cli.api import refuse_unsafe_role
from graph.server.secrets import server_keys
from graph.settings import DirectLoginRefused, Settings, get_settings, refuse_direct_login
from ledger import connections, consents
from ledger.db import create_engine, session_factory
from ledger.sync_store import Trigger
from ledger.types import utcnow

console = Console()
log = logging.getLogger("alif_graph.sync")


async def connect_bank(
    provider: str,
    *,
    base_url: str,
    creds: credentials.Credentials,
    bank_id: str,
    phone: str,
    database_url: str,
    keys: Keyring,
) -> int:
    """Store a Connection with encrypted credentials; returns its id."""
    institution = institution_of(provider, bank_id)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as s:
            return await connections.link_customer(
                s,
                phone=phone,
                institution=institution,
                provider=provider,
                base_url=base_url,
                bank_id=bank_id,
                credentials_encrypted=credentials.encrypt(creds, keys),
            )
    finally:
        await engine.dispose()


class _RichProgress:
    """A progress bar on a terminal."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = progress.add_task("sync", total=None)

    def stage(self, name: str) -> None:
        self._progress.update(self._task, description=name)

    def advance(self, records: int) -> None:
        self._progress.advance(self._task, records)


class _LogProgress:
    """Plain log lines when nobody watches a terminal."""

    def stage(self, name: str) -> None:
        log.info("sync: %s", name)

    def advance(self, records: int) -> None:
        log.info("sync: +%d records", records)


@contextmanager
def _progress() -> Iterator[_RichProgress | _LogProgress]:
    if not sys.stdout.isatty():
        yield _LogProgress()
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield _RichProgress(progress)


# The bank refused the stored login or consent: logging in again would only count towards
# the bank's lockout (OBP locks a user after a few failed logins).
REFUSED = connections.REAUTH_REQUIRED


RELINK = (
    "the bank refused its login; re-link it "
    "(`alif-graph connect ...` again, or the customer's consent page), then sync"
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A connection this run did not sync, and why (one line, naming no person)."""

    connection_id: int
    reason: str
    error: bool = False  # a refusal the operator must fix (the command then fails)

    def line(self) -> str:
        return f"connection {self.connection_id} skipped: {self.reason}"


async def sync_connections(
    connection_ids: list[int] | None,
    *,
    full: bool,
    database_url: str,
    keys: Keyring,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
    skipped: list[Skipped] | None = None,
    settings: Settings | None = None,
    revocations: list[Outcome] | None = None,
) -> list[SyncReport]:
    """Sync the given connections (None: all), one after another, as unattended runs.

    Each is first asked of the consent limits (`ledger.consents.admit_sync`); a refused
    one, or one whose login the bank refused (with --all), is added to `skipped` instead,
    and so is a DirectLogin one in production (an `error`). Every pass first retries the
    bank revocations still pending (`connectors.bank_revocation`), into `revocations`."""
    settings = settings or get_settings()
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    reports = []
    refused: list[Skipped] = []
    try:
        revoked = await revoke_pending(sessions, keys=keys, transport=transport, tls=tls)
        if revocations is not None:
            revocations.extend(revoked)
        if connection_ids:
            ids = list(connection_ids)
        else:
            async with sessions() as s:
                statuses = await connections.connection_statuses(s)
            ids = [i for i, status in statuses if status != REFUSED]
            refused += [Skipped(i, RELINK) for i, status in statuses if status == REFUSED]
        tune_for_sync()
        with _progress() as progress:
            engine_ = SyncEngine(sessions, progress=progress)
            for connection_id in ids:
                async with sessions.begin() as s:
                    decision = await consents.admit_sync(
                        s, connection_id, trigger=Trigger.UNATTENDED, now=utcnow()
                    )
                if not decision.allowed:
                    refused.append(Skipped(connection_id, decision.reason))
                    continue
                async with sessions() as s:
                    provider, base_url, bank_id, blob = await connections.connection_target(
                        s, connection_id
                    )
                creds = credentials.decrypt(blob, keys)
                if not (creds.consent_id or creds.consent_jwt):
                    try:
                        refuse_direct_login(settings, f"connection {connection_id}")
                    except DirectLoginRefused as exc:
                        refused.append(Skipped(connection_id, exc.reason, error=True))
                        continue
                connector = open_connector(
                    provider, base_url, bank_id, creds, transport=transport, tls=tls
                )
                try:
                    reports.append(
                        await engine_.sync(
                            connection_id, connector, full=full, trigger=Trigger.UNATTENDED
                        )
                    )
                finally:
                    await connector.aclose()
    finally:
        await engine.dispose()
        if skipped is not None:
            skipped.extend(refused)
    return reports


def register(app: typer.Typer) -> None:
    @app.command()
    def connect(
        provider: str = typer.Argument(..., help="alif (Alif's mapping) or obp (any OBP bank)"),
        base_url: str = typer.Option(..., help="The bank's OBP base URL."),
        username: str = typer.Option(..., help="DirectLogin username."),
        password: str = typer.Option(..., prompt=True, hide_input=True),
        consumer_key: str = typer.Option(..., help="The OBP consumer key."),
        bank_id: str = typer.Option(DEFAULT_BANK_ID, help="The OBP bank id."),
        phone: str = typer.Option("+992900000000", help="The customer's phone (+992...)."),
    ) -> None:
        """Link a bank for a customer; credentials are stored encrypted."""
        if provider not in PROVIDERS:
            raise typer.BadParameter(f"provider must be one of {', '.join(PROVIDERS)}")
        settings = get_settings()
        try:
            refuse_direct_login(settings, "alif-graph connect")
        except DirectLoginRefused as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        creds = credentials.Credentials(
            consumer_key=consumer_key, username=username, password=password
        )
        connection_id = asyncio.run(
            connect_bank(
                provider,
                base_url=base_url,
                creds=creds,
                bank_id=bank_id,
                phone=phone,
                database_url=settings.database_url,
                keys=server_keys(settings),
            )
        )
        console.print(f"connection {connection_id}")

    @app.command()
    def sync(
        # Connection ids are 32-bit keys: a larger one is a usage error, not a lookup.
        connection: list[int] = typer.Option(
            None, "--connection", min=1, max=2**31 - 1, help="Connection id(s)."
        ),
        all_: bool = typer.Option(False, "--all", help="Sync every connection."),
        full: bool = typer.Option(False, "--full", help="Re-read all history."),
    ) -> None:
        """Pull accounts, balances, cards, transfers and transactions into the ledger, as
        unattended runs: a connection the consent limits refuse is skipped with the reason."""
        if not connection and not all_:
            raise typer.BadParameter("give --connection ID or --all")
        settings = get_settings()
        refuse_unsafe_role(settings)
        skipped: list[Skipped] = []
        revocations: list[Outcome] = []
        try:
            tls = bank_tls(settings)
        except UpstreamConfigurationError as exc:
            console.print(f"[red]error:[/red] bank TLS configuration: {escape(exc.message)}")
            raise typer.Exit(1) from None
        try:
            reports = asyncio.run(
                sync_connections(
                    None if all_ else list(connection),
                    full=full,
                    database_url=settings.database_url,
                    keys=server_keys(settings),
                    tls=tls,
                    skipped=skipped,
                    settings=settings,
                    revocations=revocations,
                )
            )
        except SyncAlreadyRunning as exc:
            console.print(f"[yellow]{exc}[/yellow]")
            raise typer.Exit(2) from None
        except connections.UnknownConnection as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        except Exception as exc:
            # The run is already recorded FAILED. Its message may quote ledger rows (a
            # database's error detail does), so only the kind of failure is shown.
            console.print(f"[red]error:[/red] the sync stopped: {type(exc).__name__}")
            raise typer.Exit(1) from None
        for outcome in revocations:
            console.print(outcome.line(), markup=False, soft_wrap=True)
        for skip in skipped:
            style = "red" if skip.error else "yellow"
            console.print(skip.line(), style=style, markup=False, soft_wrap=True)
        failed = any(skip.error for skip in skipped)
        for report in reports:
            s = report.stats
            console.print(
                f"run {report.run_id}: {report.status} pages={s.pages} inserted={s.inserted} "
                f"changed={s.changed} unchanged={s.unchanged} issues={s.issues}"
                + (f" error={report.error}" if report.error else ""),
                markup=False,
            )
            for gap in report.unreconciled:
                console.print(
                    f"  unreconciled account {gap.account_external_id}: {gap.describe()}",
                    markup=False,
                )
            for issue in report.issues[:20]:
                console.print(
                    f"  issue {issue.kind} {issue.external_id or '-'}: {issue.reason}",
                    markup=False,
                )
            failed = failed or report.status == "FAILED"
        if failed:
            raise typer.Exit(1)

    @app.command("revoke-pending")
    def revoke_pending_command() -> None:
        """Revoke at the bank the bank consents of connections whose customer revoked our
        consent while the bank did not answer (every `sync` pass retries them too)."""
        settings = get_settings()
        try:
            tls = bank_tls(settings)
        except UpstreamConfigurationError as exc:
            console.print(f"[red]error:[/red] bank TLS configuration: {escape(exc.message)}")
            raise typer.Exit(1) from None
        outcomes = asyncio.run(_revoke_pending(settings.database_url, server_keys(settings), tls))
        for outcome in outcomes:
            console.print(outcome.line(), markup=False, soft_wrap=True)
        if not outcomes:
            console.print("no bank revocation pending")
        if not all(o.done for o in outcomes):
            raise typer.Exit(1)


async def _revoke_pending(database_url: str, keys: Keyring, tls: BankTls | None) -> list[Outcome]:
    engine = create_engine(database_url)
    try:
        return await revoke_pending(session_factory(engine), keys=keys, tls=tls)
    finally:
        await engine.dispose()
