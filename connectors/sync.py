"""Paging a bank into the ledger, resumably.

Each upstream page is written in ONE database transaction together with the stream's
cursor, so a process killed at any moment loses nothing and a re-run duplicates nothing:
it resumes at the stored offset of the read in progress. Incremental runs re-read an
overlap window before the newest stored booking so late postings and clock skew miss
nothing. Records that cannot be mapped are stored as sync issues; their siblings are kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
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
from connectors.errors import ReauthRequired, UpstreamError, UpstreamMalformed
from ledger import sync_store as store
from ledger.models import Account, Card, Connection, ServicePayment, Transaction, Transfer, table
from ledger.types import utcnow
from ledger.writes import UpsertResult, upsert

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SyncAlreadyRunning(Exception):
    """Another process is syncing this connection right now."""


class Progress(Protocol):
    def stage(self, name: str) -> None: ...

    def advance(self, records: int) -> None: ...


class _Quiet:
    def stage(self, name: str) -> None:
        log.info("sync stage: %s", name)

    def advance(self, records: int) -> None:
        pass


@dataclass(slots=True)
class SyncReport:
    run_id: int
    status: str  # SUCCEEDED PARTIAL FAILED
    stats: store.RunStats
    issues: list[SyncIssue] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class _Context:
    connection_id: int
    user_id: int
    institution_id: int
    run_id: int
    stats: store.RunStats
    issues: list[SyncIssue]
    accounts: dict[str, int] = field(default_factory=dict)


class SyncEngine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], datetime] = utcnow,
        overlap: timedelta = timedelta(days=10),
        lease: timedelta = timedelta(minutes=5),
        progress: Progress | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.overlap = overlap
        self.lease = lease
        self.progress = progress or _Quiet()
        # Seconds spent writing transaction pages (the ledger stage), for benchmarks and logs.
        self.write_seconds = 0.0

    async def sync(
        self, connection_id: int, connector: Connector, *, full: bool = False
    ) -> SyncReport:
        """Pull everything the connection can see; refuse if it is already being synced."""
        async with self.sessions.begin() as s:
            conn = (
                await s.execute(
                    select(table(Connection).c.user_id, table(Connection).c.institution_id).where(
                        table(Connection).c.id == connection_id
                    )
                )
            ).one()
            run_id = await store.start_run(s, connection_id, now=self.clock(), lease=self.lease)
            if run_id is None:
                raise SyncAlreadyRunning(f"connection {connection_id} is already syncing")
            await self._set_connection(s, connection_id, status="SYNCING")
        ctx = _Context(connection_id, conn[0], conn[1], run_id, store.RunStats(), [])
        try:
            await self._accounts(ctx, connector)
            await self._balances(ctx, connector)
            await self._cards(ctx, connector)
            for external_id in ctx.accounts:
                await self._transfers(ctx, connector, external_id)
            for external_id in ctx.accounts:
                await self._transactions(ctx, connector, external_id, full=full)
        except BaseException as exc:
            reauth = isinstance(exc, ReauthRequired)
            error = str(exc) if isinstance(exc, UpstreamError) else type(exc).__name__
            await self._finish(ctx, "FAILED", "REAUTH_REQUIRED" if reauth else "ERROR", error)
            if isinstance(exc, UpstreamError):
                log.warning("sync of connection %s failed: %s", connection_id, error)
                return SyncReport(run_id, "FAILED", ctx.stats, ctx.issues, error)
            raise
        status = "PARTIAL" if ctx.issues else "SUCCEEDED"
        await self._finish(ctx, status, "ACTIVE", None)
        return SyncReport(run_id, status, ctx.stats, ctx.issues)

    # --- stages ---------------------------------------------------------------------------

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
            ctx.accounts = await store.external_ids(s, Account, ctx.connection_id)

    async def _balances(self, ctx: _Context, connector: Connector) -> None:
        self.progress.stage("balances")
        page = await connector.balances(list(ctx.accounts))
        now = self.clock()
        async with self.sessions.begin() as s:
            latest = await store.latest_balances(s, ctx.accounts.values())
            snapshots = []
            for record in page.records:
                account_id = ctx.accounts.get(record.account_external_id)
                if account_id is None:
                    continue
                # Only a moved balance is a new fact; an unchanged bank writes nothing.
                if latest.get((account_id, record.type)) == record.amount.minor:
                    ctx.stats.unchanged += 1
                    continue
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
        self.progress.stage(f"transfers {account_ext}")
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
            self.progress.advance(len(records))

    async def _transactions(
        self, ctx: _Context, connector: Connector, account_ext: str, *, full: bool
    ) -> None:
        self.progress.stage(f"transactions {account_ext}")
        stream = f"transactions:{account_ext}"
        account_id = ctx.accounts[account_ext]
        async with self.sessions() as s:
            cursor = await store.load_cursor(s, ctx.connection_id, stream)
        if full or not cursor.in_progress:
            since = cursor.high_water - self.overlap if cursor.high_water and not full else EPOCH
            cursor = store.Cursor(window_from=since, offset=0, high_water=cursor.high_water)
        assert cursor.window_from is not None
        # Vanished pending rows can only be judged after one uninterrupted read of the window.
        whole_window = cursor.offset == 0
        seen_pending: set[str] = set()
        gap = False
        offset = cursor.offset
        while True:
            try:
                async for page in connector.transaction_pages(
                    account_ext, cursor.window_from, offset
                ):
                    await self._transaction_page(ctx, account_id, stream, cursor, page)
                    seen_pending.update(
                        r.external_id
                        for r in page.records
                        if isinstance(r, TransactionRecord) and r.status == "PENDING"
                    )
                break
            except UpstreamMalformed as exc:
                # The client already retried. Quarantine the unreadable page, carry on after
                # it, and keep the high-water mark so the next run reads this window again.
                gap = True
                async with self.sessions.begin() as s:
                    issue = SyncIssue("page", f"{stream}@{cursor.offset}", str(exc)[:500])
                    await self._issues(s, ctx, [issue])
                    cursor.offset += connector.page_size
                    await store.save_cursor(s, ctx.connection_id, stream, cursor, now=self.clock())
                offset = cursor.offset
        await self._close_stream(ctx, account_id, stream, cursor, seen_pending, whole_window, gap)

    async def _transaction_page(
        self,
        ctx: _Context,
        account_id: int,
        stream: str,
        cursor: store.Cursor,
        page: Page[TransactionPageRecord],
    ) -> None:
        tx_rows = []
        payment_rows = []
        for record in page.records:
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
        now = self.clock()
        started = time.perf_counter()
        async with self.sessions.begin() as s:
            # One page, one timestamp: its rows share created_at/updated_at.
            await self._write(s, ctx, table(ServicePayment), payment_rows, [], now=now)
            await store.resolve_references(s, ctx.connection_id, tx_rows)
            await self._write(
                s, ctx, table(Transaction), tx_rows, page.issues, links=store.LINKS, now=now
            )
            await store.link_replacements(s, ctx.connection_id, tx_rows, now=now)
            cursor.offset = page.offset + page.raw_count
            await store.save_cursor(s, ctx.connection_id, stream, cursor, now=now)
            await store.record_progress(s, ctx.run_id, ctx.stats, now=now)
        self.write_seconds += time.perf_counter() - started
        self.progress.advance(len(tx_rows))

    async def _close_stream(
        self,
        ctx: _Context,
        account_id: int,
        stream: str,
        cursor: store.Cursor,
        seen_pending: set[str],
        whole_window: bool,
        gap: bool,
    ) -> None:
        now = self.clock()
        assert cursor.window_from is not None
        async with self.sessions.begin() as s:
            if whole_window and not gap:
                for pending_id, ext, amount, on in await store.open_pending(
                    s, account_id, cursor.window_from.date()
                ):
                    if ext not in seen_pending:
                        await store.retire_pending(s, account_id, pending_id, amount, on, now=now)
            newest = (
                await s.execute(
                    select(func.max(table(Transaction).c.booked_at)).where(
                        table(Transaction).c.account_id == account_id
                    )
                )
            ).scalar_one()
            high_water = cursor.high_water if gap else (newest or cursor.high_water)
            done = store.Cursor(window_from=None, offset=0, high_water=high_water)
            await store.save_cursor(s, ctx.connection_id, stream, done, now=now)

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
        if target is table(Transaction):
            ctx.stats.pages += 1
        await self._issues(s, ctx, issues)
        return result

    async def _issues(self, s: AsyncSession, ctx: _Context, issues: list[SyncIssue]) -> None:
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
            values: dict[str, Any] = {"status": connection_status, "updated_at": now}
            if status != "FAILED":
                values["last_synced_at"] = now
            await self._set_connection(s, ctx.connection_id, **values)

    @staticmethod
    async def _set_connection(s: AsyncSession, connection_id: int, **values: Any) -> None:
        conn = table(Connection)
        await s.execute(update(conn).where(conn.c.id == connection_id).values(**values))
