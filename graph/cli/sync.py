"""`alif-graph connect` and `alif-graph sync`: linking a bank and pulling its data."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import phonenumbers
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text
from sqlalchemy.exc import InterfaceError, OperationalError

from connectors import credentials
from connectors.bank_revocation import Outcome, revoke_pending
from connectors.errors import UpstreamAuthError, UpstreamConfigurationError, UpstreamError
from connectors.factory import (
    DEFAULT_BANK_ID,
    PROVIDERS,
    check_login,
    institution_of,
    open_connector,
)
from connectors.heap import tune_for_sync
from connectors.keys import Keyring
from connectors.sync import AccountStage, SyncAlreadyRunning, SyncEngine, SyncReport
from connectors.tls import BankTls
from graph.bank_tls import bank_tls
from graph.cli.api import refuse_unsafe_role
from graph.cli.database import ensure_schema
from graph.cli.errors import CliError, ExitCode
from graph.server.secrets import server_keys
from graph.settings import (
    DirectLoginRefused,
    Settings,
    get_settings,
    refuse_direct_login,
    web_base_url,
)
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


class _RateColumn(ProgressColumn):
    """Records per second, as rich measures them over its recent samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} records/s" if speed else "", style="progress.data.speed")


class _RichProgress:
    """A bar per account on a terminal: [n/N] its name, records written of the total the
    bank reports (OBP reports none: then a count), and a rate."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._stage = progress.add_task("connecting", total=None)
        self._tasks: dict[str, TaskID] = {}
        self._current: TaskID | None = None
        self._base = 0.0  # the account's records before its current stream

    def stage(self, name: str) -> None:
        self._progress.update(self._stage, description=escape(name))

    def account(self, stage: AccountStage) -> None:
        description = f"[{stage.position}/{stage.count}] {escape(stage.name)} {stage.stream}"
        task = self._tasks.get(stage.external_id)
        if task is None:
            task = self._tasks[stage.external_id] = self._progress.add_task(description, total=None)
        self._progress.update(task, description=description)
        self._current = task
        self._base = self._progress.tasks[task].completed

    def advance(self, records: int, total: int | None = None) -> None:
        if self._current is None:
            return
        if total is not None:
            self._progress.update(self._current, total=self._base + total)
        self._progress.advance(self._current, records)

    def account_done(self, external_id: str) -> None:
        task = self._tasks.get(external_id)
        if task is not None:
            # Done: the bar is full whatever total the bank did or did not report.
            self._progress.update(task, total=self._progress.tasks[task].completed)
            self._progress.stop_task(task)
        self._current = None


@dataclass(slots=True)
class _Tally:
    name: str
    position: int
    count: int
    records: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self) -> str:
        streams = ", ".join(
            f"{n:,}{'/' + format(self.totals[k], ',') if k in self.totals else ''} {k}"
            for k, n in self.records.items()
        )
        rate = sum(self.records.values()) / self.seconds if self.seconds > 0 else 0.0
        return (
            f"account {self.position}/{self.count} {self.name}: {streams or 'nothing new'} "
            f"in {self.seconds:.1f} s ({rate:,.0f} records/s)"
        )


class _LineProgress:
    """One plain line per account when nobody watches a terminal (a pipe, a log file)."""

    def __init__(
        self,
        write: Callable[[str], None] = typer.echo,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write, self._clock = write, clock
        self._tallies: dict[str, _Tally] = {}
        self._open: tuple[_Tally, str, float] | None = None  # tally, stream, since

    def stage(self, name: str) -> None:
        log.info("sync: %s", name)

    def account(self, stage: AccountStage) -> None:
        self._close()
        tally = self._tallies.setdefault(
            stage.external_id, _Tally(stage.name, stage.position, stage.count)
        )
        tally.records.setdefault(stage.stream, 0)
        self._open = (tally, stage.stream, self._clock())

    def advance(self, records: int, total: int | None = None) -> None:
        if self._open is None:
            return
        tally, stream, _ = self._open
        tally.records[stream] += records
        if total is not None:
            tally.totals[stream] = total

    def account_done(self, external_id: str) -> None:
        self._close()
        tally = self._tallies.pop(external_id, None)
        if tally is not None:
            self._write(tally.line())

    def _close(self) -> None:
        if self._open is not None:
            tally, _, since = self._open
            tally.seconds += self._clock() - since
            self._open = None


@contextmanager
def _progress() -> Iterator[_RichProgress | _LineProgress]:
    if not sys.stdout.isatty():
        yield _LineProgress()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
    )
    with Progress(*columns, console=console) as progress:
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
        base_url: str = typer.Option(..., help="The bank's OBP base URL (http(s)://host)."),
        username: str = typer.Option(..., help="DirectLogin username."),
        password: str = typer.Option(..., prompt=True, hide_input=True),
        consumer_key: str = typer.Option(..., help="The OBP consumer key."),
        bank_id: str = typer.Option(DEFAULT_BANK_ID, help="The OBP bank id."),
        phone: str = typer.Option(
            "+992900000000", help="The customer's phone, in E.164 (+992...) or Tajik form."
        ),
    ) -> None:
        """Link a bank for a customer: logs in at the bank once, then stores the
        connection with its credentials encrypted; nothing is stored if the login fails."""
        if provider not in PROVIDERS:
            raise CliError(f"provider must be one of {', '.join(PROVIDERS)}", ExitCode.USAGE)
        try:
            base_url = web_base_url(base_url)
        except ValueError:
            raise CliError(
                f"--base-url {base_url!r}: not an http(s) base URL (e.g. https://bank.example)",
                ExitCode.USAGE,
            ) from None
        customer_phone = e164(phone)
        settings = get_settings()
        try:
            refuse_direct_login(settings, "alif-graph connect")
        except DirectLoginRefused as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from None
        tls = _tls(settings)
        keys = server_keys(settings)
        ensure_schema(settings)
        creds = credentials.Credentials(
            consumer_key=consumer_key, username=username, password=password
        )
        asyncio.run(_login_once(provider, base_url, creds, tls))
        connection_id = asyncio.run(
            connect_bank(
                provider,
                base_url=base_url,
                creds=creds,
                bank_id=bank_id,
                phone=customer_phone,
                database_url=settings.database_url,
                keys=keys,
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
        tls = _tls(settings)  # configuration first: it needs no database
        keys = server_keys(settings)
        ensure_schema(settings)
        refuse_unsafe_role(settings)
        skipped: list[Skipped] = []
        revocations: list[Outcome] = []
        try:
            reports = asyncio.run(
                sync_connections(
                    None if all_ else list(connection),
                    full=full,
                    database_url=settings.database_url,
                    keys=keys,
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
        except (OperationalError, InterfaceError, ConnectionError):
            raise  # the database went away: the CLI's error boundary says so
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
            for proof in report.proofs:
                console.print(
                    f"  account {proof.account_external_id}: {proof.describe()}", markup=False
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
        tls = _tls(settings)
        outcomes = asyncio.run(_revoke_pending(settings.database_url, server_keys(settings), tls))
        for outcome in outcomes:
            console.print(outcome.line(), markup=False, soft_wrap=True)
        if not outcomes:
            console.print("no bank revocation pending")
        if not all(o.done for o in outcomes):
            raise typer.Exit(1)


def _tls(settings: Settings) -> BankTls | None:
    try:
        return bank_tls(settings)
    except UpstreamConfigurationError as exc:
        raise CliError(f"bank TLS configuration: {exc.message}", ExitCode.CONFIGURATION) from None


def e164(phone: str) -> str:
    """The customer's phone in E.164 (`+992901234567`); a number without a country code
    is read as Tajik. CliError when it is no valid number."""
    try:
        number = phonenumbers.parse(phone, "TJ")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise CliError(
            f"--phone {phone!r}: not a valid phone number (e.g. +992901234567)", ExitCode.USAGE
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


async def _login_once(
    provider: str, base_url: str, creds: credentials.Credentials, tls: BankTls | None
) -> None:
    """One login at the bank before anything is stored; its refusal is the command's."""
    try:
        await check_login(provider, base_url, creds, tls=tls)
    except UpstreamAuthError as exc:
        raise CliError(
            f"the bank refused the login ({exc.message}); check --username, the password "
            "and --consumer-key. Nothing was stored"
        ) from None
    except UpstreamError as exc:
        raise CliError(
            f"the bank at {base_url} did not let us log in: {exc.message}; check --base-url. "
            "Nothing was stored"
        ) from None
    except ValueError as exc:
        raise CliError(f"{exc}; nothing was stored", ExitCode.USAGE) from None


async def _revoke_pending(database_url: str, keys: Keyring, tls: BankTls | None) -> list[Outcome]:
    engine = create_engine(database_url)
    try:
        return await revoke_pending(session_factory(engine), keys=keys, tls=tls)
    finally:
        await engine.dispose()
