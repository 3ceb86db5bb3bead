"""Sync against the sandbox bank over ASGI, on SQLite and PostgreSQL: the ledger must equal
the bank after every fault, with no duplicates and the issues reported."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import Connector, Page
from connectors.credentials import Credentials, decrypt, encrypt
from connectors.factory import open_connector
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sync import SyncAlreadyRunning, SyncEngine
from graph.cli.dev.demo import serving
from ledger.models import (
    Card,
    SyncIssueRow,
    SyncRun,
    Transfer,
    TransferEvent,
    metadata,
    table,
)

from .sync_kit import (
    AS_OF,
    KEYS,
    TX,
    Bank,
    Clock,
    assert_ledger_equals_bank,
    connect,
    connector_for,
    sync_once,
)


async def test_full_sync_reproduces_the_bank(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    report = await sync_once(sessions, bank, connection_id, creds)

    assert report.status == "SUCCEEDED", report.issues
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    async with sessions() as s:
        cards = (await s.execute(select(table(Card).c.pan_masked))).scalars().all()
        transfers = (await s.execute(select(table(Transfer).c.external_id))).scalars().all()
        run = (await s.execute(select(table(SyncRun)))).one()
    bank_cards = bank.truth.cards_of(username)
    assert len(cards) == len(bank_cards)
    full_numbers = {c.number for c in bank_cards}
    assert not full_numbers & set(cards)
    assert all(c.count("*") >= 6 for c in cards)
    expected_transfers = {
        t.id for a in bank.truth.accounts_of(username) for t in bank.truth.transfers_of(a.id)
    }
    assert set(transfers) == expected_transfers
    assert run.status == "SUCCEEDED" and run.pages > 0 and run.inserted > 0


async def test_resync_of_an_unchanged_bank_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    _, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    async with sessions() as s:
        before = sorted(await s.execute(select(TX.c.external_id, TX.c.updated_at)))

    again = await sync_once(sessions, bank, connection_id, creds)

    async with sessions() as s:
        after = sorted(await s.execute(select(TX.c.external_id, TX.c.updated_at)))
    assert (again.stats.inserted, again.stats.changed) == (0, 0)
    assert again.stats.unchanged > 0
    assert after == before


@pytest.mark.parametrize(
    ("faults", "seen"),
    [
        pytest.param({"rate_limit_per_minute": 5}, "UpstreamRateLimited", id="429-storm"),
        pytest.param({"fail_next": 3}, "UpstreamUnavailable", id="503s"),
        pytest.param({"error_rate": 0.2, "rng_seed": 3}, "UpstreamUnavailable", id="random-5xx"),
        pytest.param(
            {"malformed_offsets": [0], "malformed_times": 1}, "UpstreamMalformed", id="bad-page"
        ),
        pytest.param({"duplicate_page": True}, "reading it again", id="duplicated-page"),
        pytest.param({"expire_tokens_after": 7}, "logged in again", id="401-mid-sync"),
    ],
)
async def test_faults_end_with_the_ledger_equal_to_the_bank(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    family: tuple[str, int, Credentials],
    faults: dict[str, Any],
    seen: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    username, connection_id, creds = family
    bank.configure(**faults)

    with caplog.at_level(logging.INFO, logger="connectors"):
        report = await sync_once(sessions, bank, connection_id, creds, page_size=20)

    assert report.status == "SUCCEEDED", report.error
    assert any(seen in r.getMessage() for r in caplog.records), "the fault never happened"
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_bad_records_are_quarantined_and_their_siblings_stored(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    account = bank.truth.accounts_of(username)[0]
    victims = [t.id for t in bank.truth.iter_transactions(account.id)][:5]
    bad = dict(zip(victims, ["NaN", "1e309", "12,50", "1.234", "Infinity"], strict=True))
    bank.faults.malformed_records = bad

    report = await sync_once(sessions, bank, connection_id, creds)

    assert report.status == "PARTIAL"
    async with sessions() as s:
        issues = {
            r.external_id: r.reason for r in (await s.execute(select(table(SyncIssueRow)))).all()
        }
        stored = set(
            (await s.execute(select(TX.c.external_id).where(TX.c.external_id.in_(victims))))
            .scalars()
            .all()
        )
        count = len((await s.execute(select(TX.c.id))).all())
    assert set(bad) <= set(issues)
    assert not stored
    siblings = sum(
        bank.truth.count_transactions(a.id) for a in bank.truth.accounts_of(username)
    ) - len(bad)
    assert count == siblings


class _Killed(Exception):
    """Stands in for the process dying between two pages."""


class _DiesAfter:
    """A connector that dies after `pages` transaction pages."""

    def __init__(self, inner: Connector, pages: int) -> None:
        self._inner = inner
        self._left = pages
        self.page_size = inner.page_size

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def transaction_page(self, account: str, **query: Any) -> Page[Any]:
        if self._left == 0:
            raise _Killed
        self._left -= 1
        return await self._inner.transaction_page(account, **query)


async def test_a_sync_killed_mid_way_resumes_without_loss_or_duplicates(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    inner = connector_for(bank, "alif", creds, page_size=20)
    with pytest.raises(_Killed):
        await SyncEngine(sessions).sync(connection_id, _DiesAfter(inner, 3))  # type: ignore[arg-type]
    await inner.aclose()
    # A real kill leaves the run RUNNING with a stale heartbeat; make it look that way.
    async with sessions.begin() as s:
        await s.execute(
            update(table(SyncRun)).values(
                status="RUNNING", heartbeat_at=datetime.now(UTC) - timedelta(hours=1)
            )
        )
        cursors_mid = len((await s.execute(select(TX.c.id))).all())
    assert cursors_mid > 0

    report = await sync_once(sessions, bank, connection_id, creds)

    assert report.status == "SUCCEEDED"
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    async with sessions() as s:
        statuses = sorted((await s.execute(select(table(SyncRun).c.status))).scalars())
    assert statuses == ["ABANDONED", "SUCCEEDED"]


async def test_a_second_sync_of_the_same_connection_is_refused(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    _, connection_id, creds = family
    async with sessions.begin() as s:
        await s.execute(table(SyncRun).insert().values(connection_id=connection_id))

    with pytest.raises(SyncAlreadyRunning):
        await sync_once(sessions, bank, connection_id, creds)


@pytest.mark.parametrize("provider", ["alif", "obp"])
async def test_pending_booked_under_a_new_id_replaces_the_pending_row(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, provider: str
) -> None:
    username = next(
        c.username
        for c in bank.truth.customers
        if any(bank.truth.pending_transactions(a.id) for a in bank.truth.accounts_of(c.username))
    )
    connection_id, creds = await connect(sessions, bank, username, provider)
    await sync_once(sessions, bank, connection_id, creds, provider)
    async with sessions.begin() as s:
        pending = (
            await s.execute(select(TX.c.id, TX.c.external_id).where(TX.c.status == "PENDING"))
        ).all()
        assert pending
        # The customer recategorized one pending item; the label must survive booking.
        await s.execute(update(TX).where(TX.c.id == pending[0].id).values(user_category="gifts"))

    bank.truth.book_pending()
    report = await sync_once(sessions, bank, connection_id, creds, provider)

    assert report.status == "SUCCEEDED"
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    async with sessions() as s:
        successors = {
            r.replaces_id: r
            for r in (
                await s.execute(
                    select(TX.c.replaces_id, TX.c.user_category, TX.c.status).where(
                        TX.c.replaces_id.is_not(None)
                    )
                )
            ).all()
        }
        superseded = (
            await s.execute(select(TX.c.id).where(TX.c.superseded_at.is_not(None)))
        ).scalars()
        assert set(superseded) == {p.id for p in pending}
    assert set(successors) == {p.id for p in pending}
    assert successors[pending[0].id].user_category == "gifts"
    assert all(r.status == "BOOKED" for r in successors.values())


async def test_plain_obp_mode_reproduces_the_bank(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    username = bank.truth.customers[1].username
    connection_id, creds = await connect(sessions, bank, username, "obp")

    report = await sync_once(sessions, bank, connection_id, creds, "obp")

    assert report.status == "SUCCEEDED", report.issues
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_new_transactions_arrive_incrementally(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    account = bank.truth.accounts_of(username)[0]
    bank.clock.now += timedelta(hours=2)
    bank.truth.add_transactions(account.id, 7)

    report = await sync_once(sessions, bank, connection_id, creds)

    assert report.stats.inserted >= 7
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


def test_credentials_are_encrypted_at_rest() -> None:
    creds = Credentials(consumer_key="k", username="dilnoza", password="s3cret-pass")
    blob = encrypt(creds, KEYS)
    assert b"s3cret-pass" not in blob and b"dilnoza" not in blob
    assert decrypt(blob, KEYS) == creds
    assert "s3cret" not in repr(creds)


async def test_records_out_of_order_still_end_equal(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    username = next(
        c.username
        for c in bank.truth.customers
        if any(bank.truth.pending_transactions(a.id) for a in bank.truth.accounts_of(c.username))
    )
    connection_id, creds = await connect(sessions, bank, username, "alif")
    bank.faults.ignore_sort_direction = True
    for step in ("first", "after-booking"):
        if step == "after-booking":
            bank.truth.book_pending()
        report = await sync_once(sessions, bank, connection_id, creds, page_size=25)
        assert report.status == "SUCCEEDED"
        await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_timeouts_over_real_http_are_retried(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    family: tuple[str, int, Credentials],
    caplog: pytest.LogCaptureFixture,
) -> None:
    username, connection_id, creds = family
    bank.configure(timeout_rate=0.15, timeout_seconds=1.0, rng_seed=5)
    async with serving(bank.app, "127.0.0.1", 0) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        connector = open_connector(
            "alif",
            f"http://127.0.0.1:{port}",
            "alif.tj",
            creds,
            timeout=httpx.Timeout(0.25),
            sleep=bank.clock.sleep,
            max_retries=6,
        )
        try:
            with caplog.at_level(logging.INFO, logger="connectors"):
                report = await SyncEngine(sessions).sync(connection_id, connector)
        finally:
            await connector.aclose()

    assert report.status == "SUCCEEDED", report.error
    assert any("UpstreamUnavailable" in r.getMessage() for r in caplog.records)
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_two_syncs_started_together_one_runs_one_is_refused(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family

    results = await asyncio.gather(
        sync_once(sessions, bank, connection_id, creds),
        sync_once(sessions, bank, connection_id, creds),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, SyncAlreadyRunning)]
    finished = [r for r in results if not isinstance(r, BaseException)]
    assert len(refused) == 1 and len(finished) == 1
    assert finished[0].status == "SUCCEEDED"
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_no_card_number_or_secret_reaches_the_ledger(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)

    secrets = {c.number for c in bank.truth.cards_of(username)} | {
        bank.truth.customer(username).password,
        bank.truth.consumer_key,
    }
    async with sessions() as s:
        for model_table in metadata.sorted_tables:
            for row in (await s.execute(select(model_table))).all():
                text = " ".join(str(v) for v in row)
                leaked = [x for x in secrets if x in text]
                assert not leaked, f"{model_table.name} holds a secret"


async def test_the_default_sandbox_is_reproduced_for_every_customer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    default = Bank(create_app(SandboxConfig(as_of=AS_OF, clock=clock)), clock)
    transfers_table = table(Transfer)
    for customer in default.truth.customers:
        connection_id, creds = await connect(sessions, default, customer.username, "alif")

        report = await sync_once(sessions, default, connection_id, creds)

        assert report.status == "SUCCEEDED", report.issues
        await assert_ledger_equals_bank(sessions, default, customer.username, connection_id)
        expected = sorted(
            (
                t.id,
                t.direction,
                t.amount_minor,
                t.fee_minor,
                # The foreign leg is the recipient's when sending and the sender's when receiving.
                (t.foreign_minor or t.amount_minor)
                if t.direction == "OUTBOUND"
                else t.amount_minor,
                (t.foreign_minor or t.amount_minor) if t.direction == "INBOUND" else t.amount_minor,
                len(t.history),
            )
            for a in default.truth.accounts_of(customer.username)
            for t in default.truth.transfers_of(a.id)
        )
        async with sessions() as s:
            events = table(TransferEvent)
            stored = sorted(
                tuple(r)
                for r in await s.execute(
                    select(
                        transfers_table.c.external_id,
                        transfers_table.c.direction,
                        transfers_table.c.amount_minor,
                        transfers_table.c.fee_minor,
                        transfers_table.c.destination_amount_minor,
                        transfers_table.c.source_amount_minor,
                        select(func.count())
                        .where(events.c.transfer_id == transfers_table.c.id)
                        .scalar_subquery(),
                    ).where(transfers_table.c.connection_id == connection_id)
                )
            )
        assert stored == expected
