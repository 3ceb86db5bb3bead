"""Paging a bank into the ledger, completely, resumably, and checked against the bank.

Each account's transactions are read in date windows whose reads prove themselves
(`connectors/window_read.py`); a proven window is written in page-sized database
transactions, and the last one moves the stream's cursor past it, so a process killed at
any moment loses nothing and a re-run duplicates nothing. Incremental runs re-read an
overlap before the newest stored booking and back to the oldest unsettled pending row.
Records that cannot be mapped or stored are sync issues; their siblings are kept. Booked
history changes only through `ledger.revisions`. At the end every account is reconciled
against the bank's booked balance (`ledger.reconciliation`); see docs/sync.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors import rows
from connectors.base import (
    Connector,
    Page,
    ServicePaymentRecord,
    SyncIssue,
    TransactionPageRecord,
    TransactionRecord,
)
from connectors.errors import (
    BankConsentExpired,
    BankConsentRevoked,
    ReauthRequired,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
)
from connectors.window_read import TICK, WindowRead, WindowReader
from ledger import connections, reconciliation, revisions
from ledger import sync_store as store
from ledger.enrich import links
from ledger.enrich import pipeline as enrichment
from ledger.models import Account, Card, Connection, ServicePayment, Transfer, table
from ledger.types import utcnow
from ledger.writes import UpsertResult, upsert

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SyncAlreadyRunning(Exception):
    """Another process is syncing this connection right now."""


@dataclass(frozen=True, slots=True)
class AccountStage:
    """One account's stream being read: the account as the bank names it, its place among
    the connection's accounts (position of count), and which stream."""

    external_id: str
    name: str
    position: int
    count: int
    stream: str  # "transfers" or "transactions"


class Progress(Protocol):
    """What a sync tells whoever watches it (graph/cli/sync.py draws it)."""

    def stage(self, name: str) -> None:
        """A connection-wide stage (accounts, cards, reconciling)."""
        ...

    def account(self, stage: AccountStage) -> None:
        """An account's stream starts; `advance` then counts its records."""
        ...

    def advance(self, records: int, total: int | None = None) -> None:
        """`records` more written; `total`: the stream's length when the bank reports it."""
        ...

    def account_done(self, external_id: str) -> None:
        """The account's last stream is read."""
        ...


class _Quiet:
    def stage(self, name: str) -> None:
        log.info("sync stage: %s", name)

    def account(self, stage: AccountStage) -> None:
        log.info("sync stage: %s of account %d/%d", stage.stream, stage.position, stage.count)

    def advance(self, records: int, total: int | None = None) -> None:
        pass

    def account_done(self, external_id: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Unreconciled:
    """An account whose ledger does not add up to the bank's booked balance."""

    account_external_id: str
    difference_minor: int | None  # None: the bank reported no booked balance
    currency: str
    first_day: date | None
    # The balances chain, but the ledger's opening is not the one the bank reports: rows
    # on or before `first_day` (the first listed day) are missing from the listing.
    opening_lost: bool = False

    def describe(self) -> str:
        day = self.first_day.isoformat() if self.first_day else "an unknown day"
        if self.opening_lost:
            return (
                f"the bank's listing starts {self.difference_minor} minor units of "
                f"{self.currency} away from the opening balance it reports: a row on or "
                f"before {day} is missing"
            )
        if self.difference_minor is None:
            return f"the bank reported no booked balance to check against (from {day})"
        return (
            f"differs from the bank's booked balance by {self.difference_minor} minor units "
            f"of {self.currency}, first on {day}"
        )


@dataclass(frozen=True, slots=True)
class Proof:
    """What a run proved of one account (docs/sync.md, completeness): the listing from
    `proven_from` on (None: not at all, its read had gaps), the whole history last at
    `history_proven_at`, and what is known of its opening balance."""

    account_external_id: str
    proven_from: datetime | None
    history_proven_at: datetime | None
    opening: reconciliation.Opening
    opening_minor: int
    currency: str
    first_row_day: date | None

    def describe(self) -> str:
        start = (
            "nothing"
            if self.proven_from is None
            else (
                "the whole history"
                if self.proven_from <= EPOCH
                else f"from {self.proven_from.isoformat()}"
            )
        )
        whole = "never" if self.history_proven_at is None else self.history_proven_at.isoformat()
        text = f"proved {start}; whole history last proved {whole}"
        if self.opening is reconciliation.Opening.UNPROVEN:
            day = self.first_row_day.isoformat() if self.first_row_day else "-"
            text += (
                f"; opening unproven: the bank lists it from {day} at a balance of "
                f"{self.opening_minor} minor units of {self.currency} and reports no opening"
            )
        return text


@dataclass(slots=True)
class SyncReport:
    run_id: int
    status: str  # SUCCEEDED PARTIAL UNRECONCILED FAILED
    stats: store.RunStats
    issues: list[SyncIssue] = field(default_factory=list)
    error: str | None = None
    unreconciled: list[Unreconciled] = field(default_factory=list)
    proofs: list[Proof] = field(default_factory=list)


@dataclass(slots=True)
class _Context:
    connection_id: int
    user_id: int
    institution_id: int
    run_id: int
    stats: store.RunStats
    issues: list[SyncIssue]
    accounts: dict[str, int] = field(default_factory=dict)
    currencies: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # for progress only
    # Pending ids listed by the stream being read.
    seen_pending: set[str] = field(default_factory=set)
    # Accounts with records this run could not store: their sums cannot prove anything.
    unprovable: set[int] = field(default_factory=set)
    unreconciled: list[Unreconciled] = field(default_factory=list)
    requests: int = 0
    reported: set[SyncIssue] = field(default_factory=set)
    # Booked rows per account whose only change was the bank's running balance.
    rebalanced: dict[int, int] = field(default_factory=dict)
    trigger: store.Trigger = store.Trigger.UNATTENDED
    # The opening balance each account's history starts from, where the bank reports it.
    openings: dict[str, int | None] = field(default_factory=dict)
    # Each account's latest check before this run (its history_proven_at schedules the
    # periodic whole-history read).
    previous: dict[int, reconciliation.ReconciliationRow] = field(default_factory=dict)
    # Per account, the bank instant from which this run's reads proved the listing (None:
    # a read had gaps).
    proven_from: dict[int, datetime | None] = field(default_factory=dict)
    proofs: list[Proof] = field(default_factory=list)


@dataclass(slots=True)
class _StreamRead:
    """What one read of a stream proved: from `start` on, except its incomplete windows."""

    start: datetime
    gaps: list[WindowRead] = field(default_factory=list)
    # Stored booked rows a proven window did not list (and no later one has yet).
    unlisted: set[str] = field(default_factory=set)

    def note(self, read: WindowRead) -> None:
        if not read.complete:
            self.gaps.append(read)

    @property
    def gapless(self) -> bool:
        return not self.gaps

    def proved(self, at: datetime) -> bool:
        return at >= self.start and not any(
            gap.window.since <= at and (gap.window.until is None or at <= gap.window.until)
            for gap in self.gaps
        )


def _failed_status(exc: BaseException) -> str:
    """The connection's status after a run the bank stopped: why it refused, when it did."""
    if isinstance(exc, BankConsentRevoked):
        return connections.BANK_CONSENT_REVOKED
    if isinstance(exc, BankConsentExpired):
        return connections.BANK_CONSENT_EXPIRED
    if isinstance(exc, ReauthRequired):
        return connections.REAUTH_REQUIRED
    return "ERROR"


def _revision_issue(revision: revisions.Revision) -> SyncIssue:
    changed = ", ".join(revision.fields) if revision.fields else ""
    reason = {
        "CHANGED": f"the bank changed this booked row ({changed}); the old values are kept",
        "REMOVED": "the bank no longer lists this booked row; it is kept as removed",
        "RESTORED": "the bank lists this removed row again",
    }.get(revision.kind, revision.kind)
    return SyncIssue("revision", revision.external_id, reason)


def _known(
    previous: reconciliation.ReconciliationRow | None, now: reconciliation.Reconciliation
) -> bool:
    """Whether the last check already reported this very gap (so re-reading everything
    again would only cost the bank and us a full read)."""
    if previous is None or previous.reconciled:
        return False
    difference = previous.difference.minor if previous.difference is not None else None
    return difference == now.difference_minor and previous.first_day == now.first_day


def _refusal(exc: DBAPIError) -> str:
    """Why the database refused a row, without the row: drivers append the values."""
    cause = exc.orig if exc.orig is not None else exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"the ledger refused the row: {type(cause).__name__}: {first.split(' DETAIL')[0]}"[:300]


class SyncEngine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        overlap: timedelta = timedelta(days=10),
        skew: timedelta = timedelta(minutes=15),
        pending_horizon: timedelta = timedelta(days=45),
        window_rows: int = 10_000,
        lease: timedelta = timedelta(minutes=5),
        progress: Progress | None = None,
        write_chunk: int = 1000,
        full_every: timedelta | None = timedelta(days=7),
        write_while_fetching: bool = True,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.overlap = overlap
        # How far the bank's clock may be from ours: every re-read starts this much earlier.
        self.skew = skew
        # A pending row neither booked nor cancelled this long after its instant is retired.
        self.pending_horizon = pending_horizon
        self.window_rows = window_rows
        self.write_chunk = write_chunk
        self.lease = lease
        self.progress = progress or _Quiet()
        # An unattended incremental run reads an account's whole history again when it was
        # last proved longer ago than this (None: only `--full` does); docs/sync.md.
        self.full_every = full_every
        # A page is written while the next is fetched (connectors/window_read.py); off, a
        # page's write is timed alone (benchmarks of the write stage).
        self.write_while_fetching = write_while_fetching
        # Seconds spent writing transaction pages (the ledger stage), for benchmarks and logs.
        self.write_seconds = 0.0

    async def sync(
        self,
        connection_id: int,
        connector: Connector,
        *,
        full: bool = False,
        trigger: store.Trigger = store.Trigger.UNATTENDED,
    ) -> SyncReport:
        """Pull everything the connection can see; refuse if it is already being synced.
        `trigger` (recorded on the run) says who started it; whether it may run at all is
        the caller's question to `ledger.consents.sync_decision`."""
        async with self.sessions.begin() as s:
            conn = (
                await s.execute(
                    select(table(Connection).c.user_id, table(Connection).c.institution_id).where(
                        table(Connection).c.id == connection_id
                    )
                )
            ).one()
            run_id = await store.start_run(
                s, connection_id, now=self.clock(), lease=self.lease, trigger=trigger
            )
            if run_id is None:
                raise SyncAlreadyRunning(f"connection {connection_id} is already syncing")
            await connections.set_status(
                s, connection_id, "SYNCING", now=self.clock(), unless=connections.ENDED_BY_US
            )
        ctx = _Context(connection_id, conn[0], conn[1], run_id, store.RunStats(), [])
        ctx.trigger = trigger
        try:
            await self._accounts(ctx, connector)
            async with self.sessions() as s:
                ctx.previous = await reconciliation.latest(s, list(ctx.accounts.values()))
            await self._cards(ctx, connector)
            for external_id in list(ctx.accounts):
                self._announce(ctx, external_id, "transfers")
                step = self._transfers(ctx, connector, external_id)
                await self._account_step(ctx, external_id, step)
            for external_id in list(ctx.accounts):
                self._announce(ctx, external_id, "transactions")
                step = self._transactions(ctx, connector, external_id, full=full)
                await self._account_step(ctx, external_id, step)
                self.progress.account_done(external_id)
            await self._reconcile(ctx, connector)
        except BaseException as exc:
            error = str(exc) if isinstance(exc, UpstreamError) else type(exc).__name__
            await self._finish(ctx, "FAILED", _failed_status(exc), error)
            if isinstance(exc, UpstreamError):
                log.warning("sync of connection %s failed: %s", connection_id, error)
                return SyncReport(run_id, "FAILED", ctx.stats, ctx.issues, error)
            raise
        status = "UNRECONCILED" if ctx.unreconciled else "PARTIAL" if ctx.issues else "SUCCEEDED"
        await self._finish(ctx, status, "ACTIVE", None)
        return SyncReport(
            run_id,
            status,
            ctx.stats,
            ctx.issues,
            unreconciled=ctx.unreconciled,
            proofs=ctx.proofs,
        )

    # --- stages ---------------------------------------------------------------------------

    def _announce(self, ctx: _Context, external_id: str, stream: str) -> None:
        order = list(ctx.names)
        position = order.index(external_id) + 1 if external_id in order else 0
        name = ctx.names.get(external_id, external_id)
        self.progress.account(AccountStage(external_id, name, position, len(order), stream))

    async def _account_step(
        self, ctx: _Context, external_id: str, step: Coroutine[Any, Any, None]
    ) -> None:
        """Run one account's stage; a refusal for that account alone (its view withdrawn
        between two calls, the account closed) is an issue for it, and the run goes on
        without it (and proves nothing about it)."""
        try:
            await step
        except (UpstreamForbidden, UpstreamNotFound) as exc:
            ctx.accounts.pop(external_id, None)
            async with self.sessions.begin() as s:
                await self._issues(s, ctx, [SyncIssue("account", external_id, str(exc)[:500])])

    async def _accounts(self, ctx: _Context, connector: Connector) -> None:
        self.progress.stage("accounts")
        page = await connector.accounts()
        account_rows = [
            rows.account_row(
                r,
                connection_id=ctx.connection_id,
                user_id=ctx.user_id,
                institution_id=ctx.institution_id,
            )
            for r in page.records
        ]
        async with self.sessions.begin() as s:
            await self._write(s, ctx, table(Account), account_rows, page.issues)
            stored = await store.external_ids(s, Account, ctx.connection_id)
        # Only what the bank lists now is read: an account it stopped showing (closed, or
        # its view withdrawn: the connector said so in an issue) keeps its stored history.
        ctx.accounts = {r.external_id: stored[r.external_id] for r in page.records}
        ctx.currencies = {r.external_id: r.currency for r in page.records}
        ctx.openings = {
            r.external_id: None if r.opening is None else r.opening.minor for r in page.records
        }
        ctx.names = {
            r.external_id: f"{r.name or r.external_id} ({r.currency})" for r in page.records
        }

    async def _balances(self, ctx: _Context, connector: Connector) -> dict[str, int]:
        """Store the balances that moved; returns each account's booked balance."""
        self.progress.stage("balances")
        page = await connector.balances(list(ctx.accounts))
        now = self.clock()
        booked: dict[str, int] = {}
        async with self.sessions.begin() as s:
            latest = await store.latest_balances(s, ctx.accounts.values())
            snapshots = []
            for record in page.records:
                account_id = ctx.accounts.get(record.account_external_id)
                if account_id is None:
                    continue
                if record.type == "BOOKED":
                    booked[record.account_external_id] = record.amount.minor
                # Only a moved balance is a new fact; an unchanged bank writes nothing.
                if latest.get((account_id, record.type)) == record.amount.minor:
                    ctx.stats.unchanged += 1
                    continue
                latest[account_id, record.type] = record.amount.minor
                snapshots.append(
                    {
                        "account_id": account_id,
                        "type": record.type,
                        "amount_minor": record.amount.minor,
                        "currency": record.amount.currency,
                        "as_of": record.as_of,
                        "fetched_at": now,
                    }
                )
            ctx.stats.inserted += await store.add_balance_snapshots(s, snapshots)
            await self._issues(s, ctx, page.issues)
        return booked

    async def _reconcile(self, ctx: _Context, connector: Connector) -> None:
        """Check every account against the bank's booked balance, read after the rows so it
        covers them. An account that does not add up is re-read once from the first day
        that breaks, with a fresh balance; what still does not add up ends UNRECONCILED."""
        booked = await self._balances(ctx, connector)
        results = {ext: await self._check(ctx, ext, booked.get(ext)) for ext in ctx.accounts}
        async with self.sessions() as s:
            known = await reconciliation.latest(s, list(ctx.accounts.values()))
        for full in (False, True):
            retry = [ext for ext, result in results.items() if not result.reconciled]
            # A lost opening shows on the first listed day, so re-reading "from that day"
            # is a whole read: once reported, it is not repeated on every run.
            retry = [
                ext
                for ext in retry
                if results[ext].opening is not reconciliation.Opening.LOST
                or not _known(known.get(ctx.accounts[ext]), results[ext])
            ]
            if full:
                # A gap the re-read did not close, and not the one the last check already
                # reported: the cause is older than the day it shows on (a bank that changed
                # old history shows it where our stored and fresh balances meet), so read the
                # whole history once.
                retry = [
                    ext for ext in retry if not _known(known.get(ctx.accounts[ext]), results[ext])
                ]
            if not retry:
                break
            for ext in retry:
                first_day = results[ext].first_day
                since = EPOCH
                if first_day is not None and not full:
                    since = datetime.combine(first_day, day_start(), UTC) - self.skew
                await self._reread(ctx, connector, ext, since)
            booked = await self._balances(ctx, connector)
            for ext in retry:
                results[ext] = await self._check(ctx, ext, booked.get(ext))
        now = self.clock()
        async with self.sessions.begin() as s:
            for ext, result in results.items():
                account_id = ctx.accounts[ext]
                proof = self._proof(ctx, ext, result, now)
                await reconciliation.record(
                    s,
                    ctx.run_id,
                    account_id,
                    result,
                    now=now,
                    proven_from=proof.proven_from,
                    history_proven_at=proof.history_proven_at,
                )
                ctx.proofs.append(proof)
                if result.reconciled:
                    continue
                if account_id in ctx.unprovable:
                    reason = "cannot be proved: some of its records are quarantined"
                else:
                    currency = ctx.currencies.get(ext, "")
                    lost = result.opening is reconciliation.Opening.LOST and (
                        result.first_day == result.first_row_day
                    )
                    gap = Unreconciled(
                        ext, result.difference_minor, currency, result.first_day, lost
                    )
                    ctx.unreconciled.append(gap)
                    reason = gap.describe()
                await self._issues(s, ctx, [SyncIssue("reconciliation", ext, reason)])

    async def _check(
        self, ctx: _Context, ext: str, bank_booked: int | None
    ) -> reconciliation.Reconciliation:
        async with self.sessions() as s:
            return await reconciliation.check_account(
                s, ctx.accounts[ext], bank_booked, ctx.openings.get(ext)
            )

    def _proof(
        self, ctx: _Context, ext: str, result: reconciliation.Reconciliation, now: datetime
    ) -> Proof:
        """What this run proved of the account's listing: reads without gaps, of rows that
        were all stored, prove that the ledger holds what the bank lists from their start;
        the whole history when they began at 1970 (else the last such proof stands). The
        check against the balances is `result`'s own verdict, beside it."""
        account_id = ctx.accounts[ext]
        proven_from = ctx.proven_from.get(account_id)
        if account_id in ctx.unprovable:
            proven_from = None
        previous = ctx.previous.get(account_id)
        history_proven_at = previous.history_proven_at if previous else None
        if proven_from is not None and proven_from <= EPOCH:
            history_proven_at = now
        return Proof(
            ext,
            proven_from,
            history_proven_at,
            result.opening,
            result.opening_minor,
            ctx.currencies.get(ext, ""),
            result.first_row_day,
        )

    async def _reread(self, ctx: _Context, connector: Connector, ext: str, since: datetime) -> None:
        self.progress.stage(f"re-reading {ext} from {since.date().isoformat()}")
        stream = f"transactions:{ext}"
        async with self.sessions() as s:
            stored = await store.load_cursor(s, ctx.connection_id, stream)
        cursor = store.Cursor(window_from=since, offset=0, high_water=stored.high_water)
        read = _StreamRead(start=since)
        await self._read_windows(ctx, connector, ext, stream, cursor, read)
        await self._close_stream(ctx, ctx.accounts[ext], stream, cursor, read)
        self._proved(ctx, ctx.accounts[ext], read)

    @staticmethod
    def _proved(ctx: _Context, account_id: int, read: _StreamRead) -> None:
        """Note what a read proved: from its start on, if it had no gaps. A re-read after
        an earlier gapless read extends that proof back to its own start; a read with gaps
        proves nothing this run."""
        if account_id in ctx.proven_from and ctx.proven_from[account_id] is None:
            return
        if not read.gapless:
            ctx.proven_from[account_id] = None
            return
        before = ctx.proven_from.get(account_id)
        ctx.proven_from[account_id] = read.start if before is None else min(before, read.start)

    async def _cards(self, ctx: _Context, connector: Connector) -> None:
        self.progress.stage("cards")
        page = await connector.cards()
        card_rows = []
        for record in page.records:
            account_id = ctx.accounts.get(record.account_external_id or "")
            card_rows.append(
                rows.card_row(record, connection_id=ctx.connection_id, account_id=account_id)
            )
        async with self.sessions.begin() as s:
            await self._write(s, ctx, table(Card), card_rows, page.issues)

    async def _transfers(self, ctx: _Context, connector: Connector, account_ext: str) -> None:
        account_id = ctx.accounts[account_ext]
        async for page in connector.transfer_pages(account_ext):
            records = page.records
            transfer_rows = [
                rows.transfer_row(r, connection_id=ctx.connection_id, account_id=account_id)
                for r in records
            ]
            async with self.sessions.begin() as s:
                await self._write(s, ctx, table(Transfer), transfer_rows, page.issues)
                ids = await store.ids_of(
                    s, table(Transfer), ctx.connection_id, (r.external_id for r in records)
                )
                events = [
                    {
                        "transfer_id": ids[r.external_id],
                        "status": e.status,
                        "at": e.at,
                        "note": e.note,
                    }
                    for r in records
                    for e in r.events
                ]
                ctx.stats.inserted += await store.add_transfer_events(s, events)
            self.progress.advance(len(records), page.total)

    async def _transactions(
        self, ctx: _Context, connector: Connector, account_ext: str, *, full: bool
    ) -> None:
        """Read the account in windows that prove themselves (connectors/window_read.py),
        writing each window as soon as it is proven; the cursor names the next window."""
        stream = f"transactions:{account_ext}"
        account_id = ctx.accounts[account_ext]
        async with self.sessions() as s:
            cursor = await store.load_cursor(s, ctx.connection_id, stream)
            if full or not cursor.in_progress:
                whole = full or self._proof_due(ctx, account_id)
                since = await self._read_start(s, account_id, cursor, full=whole)
                cursor = store.Cursor(window_from=since, offset=0, high_water=cursor.high_water)
        assert cursor.window_from is not None
        # A resumed read judges from where it resumes: rows are listed in the window of
        # their date or a later one, never an earlier one, so nothing before is needed.
        read = _StreamRead(start=cursor.window_from)
        await self._read_windows(ctx, connector, account_ext, stream, cursor, read)
        await self._close_stream(ctx, account_id, stream, cursor, read)
        # A resumed read proves only from where it resumed, not the whole first read.
        self._proved(ctx, account_id, read)

    def _proof_due(self, ctx: _Context, account_id: int) -> bool:
        """Whether this unattended run must read the account's whole history again: its
        last whole-history proof is older than `full_every` (or unknown). A customer's own
        refresh stays incremental: they are waiting for it."""
        if self.full_every is None or ctx.trigger is not store.Trigger.UNATTENDED:
            return False
        previous = ctx.previous.get(account_id)
        proved = previous.history_proven_at if previous else None
        return proved is None or proved < self.clock() - self.full_every

    async def _read_start(
        self, s: AsyncSession, account_id: int, cursor: store.Cursor, *, full: bool
    ) -> datetime:
        """EPOCH for a first or full read; else the overlap before the newest booked row,
        earlier still to reach the oldest pending row not yet settled, less the clock skew
        we allow for (bank instants, not ours, set both ends)."""
        if full or cursor.high_water is None:
            return EPOCH
        since = cursor.high_water - self.overlap
        oldest = await store.oldest_open_pending(s, account_id, not_before=self._horizon())
        if oldest is not None:
            since = min(since, oldest)
        return since - self.skew

    def _horizon(self) -> datetime:
        return self.clock() - self.pending_horizon

    async def _read_windows(
        self,
        ctx: _Context,
        connector: Connector,
        account_ext: str,
        stream: str,
        cursor: store.Cursor,
        read: _StreamRead,
    ) -> None:
        account_id = ctx.accounts[account_ext]

        async def write(page: Page[TransactionPageRecord]) -> None:
            await self._write_chunk(ctx, account_id, page.records, page.issues)
            self.progress.advance(len(page.records), page.total)

        reader = WindowReader(
            connector,
            account_ext,
            write,
            clock=self.clock,
            max_rows=self.window_rows,
            write_while_fetching=self.write_while_fetching,
        )
        assert cursor.window_from is not None
        async for window in reader.windows(cursor.window_from):
            await self._window(ctx, account_id, stream, cursor, read, window)
        ctx.requests += reader.requests

    async def _window(
        self,
        ctx: _Context,
        account_id: int,
        stream: str,
        cursor: store.Cursor,
        read: _StreamRead,
        window: WindowRead,
    ) -> None:
        """Take a window's verdict: note which stored booked rows it did not list (judged
        at the end of the read: a bank filtering on another date lists a row in a later
        window), and move the cursor past it."""
        read.note(window)
        async with self.sessions.begin() as s:
            now = self.clock()
            await self._issues(s, ctx, window.issues)
            if window.complete:
                read.unlisted -= window.listed
                read.unlisted |= await revisions.unlisted(
                    s,
                    account_id,
                    since=window.window.since,
                    until=window.window.until,
                    listed=window.listed,
                )
            if window.window.until is not None:
                cursor.window_from = window.window.until + TICK
                await store.save_cursor(s, ctx.connection_id, stream, cursor, now=now)
            await store.record_progress(s, ctx.run_id, ctx.stats, now=now)

    async def _write_chunk(
        self,
        ctx: _Context,
        account_id: int,
        records: list[TransactionPageRecord],
        issues: list[SyncIssue],
    ) -> None:
        tx_rows, payment_rows = self._rows(ctx, account_id, records)
        started = time.perf_counter()
        stats, issue_count, reported = replace(ctx.stats), len(ctx.issues), set(ctx.reported)
        if issues:
            ctx.unprovable.add(account_id)
        try:
            async with self.sessions.begin() as s:
                await self._store_rows(s, ctx, account_id, tx_rows, payment_rows, issues)
        except DBAPIError:
            # What the failed transaction counted never happened.
            ctx.stats, ctx.reported = stats, reported
            del ctx.issues[issue_count:]
            # One row the database refuses must not cost its siblings: store them one by
            # one and quarantine the refused ones, saying why without their values.
            async with self.sessions.begin() as s:
                await self._store_each(s, ctx, account_id, tx_rows, payment_rows, issues)
        self.write_seconds += time.perf_counter() - started
        await self._detect_links(ctx, account_id, tx_rows)

    async def _detect_links(
        self, ctx: _Context, account_id: int, tx_rows: list[dict[str, Any]]
    ) -> None:
        """Duplicates and own-account transfers around the page just committed
        (`ledger.enrich.links`), in a transaction of their own: the page stays stored
        whatever they find."""
        days = [row["booking_date"] for row in tx_rows]
        if days:
            async with self.sessions.begin() as s:
                await links.detect_links(
                    s, account_id, min(days), max(days), now=self.clock(), user_id=ctx.user_id
                )

    def _rows(
        self, ctx: _Context, account_id: int, records: list[TransactionPageRecord]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        tx_rows = []
        payment_rows = []
        for record in records:
            if isinstance(record, TransactionRecord):
                tx_rows.append(
                    rows.transaction_row(
                        record, connection_id=ctx.connection_id, account_id=account_id
                    )
                )
            elif isinstance(record, ServicePaymentRecord):
                payment_rows.append(
                    rows.service_payment_row(
                        record, connection_id=ctx.connection_id, account_id=account_id
                    )
                )
        return tx_rows, payment_rows

    async def _store_rows(
        self,
        s: AsyncSession,
        ctx: _Context,
        account_id: int,
        tx_rows: list[dict[str, Any]],
        payment_rows: list[dict[str, Any]],
        issues: list[SyncIssue],
    ) -> None:
        # One write, one timestamp: its rows share created_at/updated_at.
        now = self.clock()
        await self._write(s, ctx, table(ServicePayment), payment_rows, [], now=now)
        await store.resolve_references(s, ctx.connection_id, tx_rows)
        # New rows are inserted enriched; the changed ones are enriched below.
        await enrichment.seed_page(s, account_id, tx_rows)
        written = await revisions.write_transactions(
            s,
            tx_rows,
            run_id=ctx.run_id,
            links=store.LINKS,
            now=now,
            on_insert=enrichment.ON_INSERT,
        )
        ctx.stats.inserted += written.inserted
        ctx.stats.changed += written.changed
        ctx.stats.unchanged += written.unchanged
        ctx.stats.pages += 1
        # A bank that changes or removes an old row moves every later running balance: one
        # issue per account for those (each keeps its revision), not one per row.
        moved = [r for r in written.revisions if r.fields == ("balance_after_minor",)]
        ctx.rebalanced[account_id] = ctx.rebalanced.get(account_id, 0) + len(moved)
        told = [_revision_issue(r) for r in written.revisions if r not in moved]
        await self._issues(s, ctx, [*issues, *told])
        await store.link_replacements(s, account_id, tx_rows, now=now)
        # Enrichment of the page's changed rows, committed with them (a page of only new
        # rows, a first sync's, is not read back).
        await enrichment.enrich_page(s, account_id, tx_rows, all_new=written.all_new)
        ctx.seen_pending.update(row["external_id"] for row in tx_rows if row["status"] == "PENDING")

    async def _store_each(
        self,
        s: AsyncSession,
        ctx: _Context,
        account_id: int,
        tx_rows: list[dict[str, Any]],
        payment_rows: list[dict[str, Any]],
        issues: list[SyncIssue],
    ) -> None:
        refused: list[SyncIssue] = []
        for row in payment_rows:
            try:
                async with s.begin_nested():
                    await self._write(s, ctx, table(ServicePayment), [row], [])
            except DBAPIError as exc:
                refused.append(SyncIssue("service_payment", row["external_id"], _refusal(exc)))
        pages = ctx.stats.pages
        for row in tx_rows:
            try:
                async with s.begin_nested():
                    await self._store_rows(s, ctx, account_id, [row], [], [])
            except DBAPIError as exc:
                refused.append(SyncIssue("transaction", row["external_id"], _refusal(exc)))
        ctx.stats.pages = pages + 1
        log.warning("sync: %d of %d rows refused by the database", len(refused), len(tx_rows))
        ctx.unprovable.add(account_id)
        await self._issues(s, ctx, [*issues, *refused])

    async def _close_stream(
        self,
        ctx: _Context,
        account_id: int,
        stream: str,
        cursor: store.Cursor,
        read: _StreamRead,
    ) -> None:
        """Settle pending rows the read proved gone or too old, and store the high water."""
        now = self.clock()
        async with self.sessions.begin() as s:
            if read.gapless and read.unlisted:
                removed = await revisions.remove(
                    s, account_id, read.unlisted, run_id=ctx.run_id, now=now
                )
                await self._issues(s, ctx, [_revision_issue(r) for r in removed])
            for pending in await store.open_pending(s, account_id):
                gone = read.proved(pending.at) and pending.external_id not in ctx.seen_pending
                if gone or pending.at < self._horizon():
                    await store.retire_pending(s, account_id, pending, now=now)
            rebalanced = ctx.rebalanced.pop(account_id, 0)
            if rebalanced:
                ext = next(e for e, i in ctx.accounts.items() if i == account_id)
                reason = (
                    f"the bank's running balance changed on {rebalanced} booked rows; "
                    "the old values are kept"
                )
                await self._issues(s, ctx, [SyncIssue("revision", ext, reason)])
            newest = await store.newest_booking(s, account_id)
            high_water = newest if read.gapless else cursor.high_water
            done = store.Cursor(window_from=None, offset=0, high_water=high_water or newest)
            await store.save_cursor(s, ctx.connection_id, stream, done, now=now)
        ctx.seen_pending.clear()

    # --- helpers --------------------------------------------------------------------------

    async def _write(
        self,
        s: AsyncSession,
        ctx: _Context,
        target: Any,
        batch: list[dict[str, Any]],
        issues: list[SyncIssue],
        *,
        links: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> UpsertResult:
        result = await upsert(s, target, batch, links=links, now=now or self.clock())
        ctx.stats.inserted += result.inserted
        ctx.stats.changed += result.changed
        ctx.stats.unchanged += result.unchanged
        await self._issues(s, ctx, issues)
        return result

    async def _issues(self, s: AsyncSession, ctx: _Context, issues: list[SyncIssue]) -> None:
        # A re-read window quarantines its bad records again: report each once per run.
        issues = [i for i in issues if i not in ctx.reported]
        ctx.reported.update(issues)
        if issues:
            ctx.issues.extend(issues)
            ctx.stats.issues += len(issues)
            await store.add_issues(s, ctx.run_id, [rows.issue_row(i) for i in issues])

    async def _finish(
        self, ctx: _Context, status: str, connection_status: str, error: str | None
    ) -> None:
        now = self.clock()
        async with self.sessions.begin() as s:
            await store.finish_run(s, ctx.run_id, ctx.stats, status=status, now=now, error=error)
            if status != "FAILED":
                await self._set_connection(s, ctx.connection_id, last_synced_at=now)
            # A revocation by the customer while the run read the bank stands.
            await connections.set_status(
                s, ctx.connection_id, connection_status, now=now, unless=connections.ENDED_BY_US
            )

    @staticmethod
    async def _set_connection(s: AsyncSession, connection_id: int, **values: Any) -> None:
        conn = table(Connection)
        await s.execute(update(conn).where(conn.c.id == connection_id).values(**values))
