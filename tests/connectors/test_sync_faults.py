"""Issue 10's acceptance: each way a real OBP bank misbehaves, switched on in the sandbox and
synced through real HTTP (ASGI) on SQLite and PostgreSQL. The ledger must equal the bank's
truth exactly; where the bank's own data is bad, exactly the bad records are quarantined; a
row the bank hides from its listing ends the run UNRECONCILED, naming account and day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from connectors.errors import UpstreamForbidden
from connectors.sandbox.models import Party
from connectors.sync import SyncEngine
from graph.cli.sync import RELINK, Skipped, sync_connections
from ledger.models import (
    Account,
    AccountReconciliation,
    Connection,
    SyncIssueRow,
    SyncRun,
    TransactionRevision,
    table,
)

from .sync_kit import (
    KEYS,
    TX,
    Bank,
    assert_ledger_equals_bank,
    bank_rows,
    connect,
    connector_for,
    ledger_rows,
    sync_once,
)

PAGE = 20  # small pages: every account spans many pages and windows


async def _issues(sessions: async_sessionmaker[AsyncSession], run_id: int) -> dict[str, str]:
    async with sessions() as s:
        found = await s.execute(
            select(table(SyncIssueRow).c.external_id, table(SyncIssueRow).c.reason).where(
                table(SyncIssueRow).c.sync_run_id == run_id
            )
        )
        return {ext or "": reason for ext, reason in found}


def _knobs(**knobs: Any) -> Callable[[Bank], None]:
    def apply(bank: Bank) -> None:
        for name, value in knobs.items():
            setattr(bank.faults, name, value)

    apply.knobs = knobs  # type: ignore[attr-defined]
    return apply


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(_knobs(strip_underscore_headers=True), id="proxy-strips-headers"),
        pytest.param(
            _knobs(strip_underscore_headers=True, headers_only=True), id="nginx-before-obp"
        ),
        pytest.param(_knobs(max_page_size=7), id="page-capped-below-the-ask"),
        pytest.param(_knobs(max_page_size=1), id="one-row-pages"),
        pytest.param(_knobs(ignore_sort_direction=True), id="sort-ignored"),
        pytest.param(_knobs(date_only=True, unstable_ties=True), id="unstable-ties"),
        pytest.param(
            _knobs(date_only=True, unstable_ties=True, max_page_size=3), id="ties-beyond-a-page"
        ),
        pytest.param(_knobs(mid_read_inserts=9), id="inserts-mid-read"),
        pytest.param(
            _knobs(mid_read_inserts=9, ignore_sort_direction=True), id="inserts-newest-first"
        ),
        pytest.param(_knobs(mid_read_removals=4), id="removals-mid-read"),
        pytest.param(
            _knobs(mid_read_removals=4, ignore_sort_direction=True), id="removals-newest-first"
        ),
        pytest.param(_knobs(api_versions=["v5.0.0"]), id="v5.0.0-only-bank"),
    ],
)
@pytest.mark.parametrize("provider", ["alif", "obp"])
async def test_paging_faults_end_with_the_ledger_equal_to_the_bank(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    fault: Callable[[Bank], None],
    provider: str,
) -> None:
    username = bank.truth.customers[1].username
    connection_id, creds = await connect(sessions, bank, username, provider)
    fault(bank)

    report = await sync_once(sessions, bank, connection_id, creds, provider, page_size=PAGE)

    # A booked row the bank reverses mid-read is history: kept as a revision, an issue.
    rewrites = "mid_read_removals" in fault.knobs  # type: ignore[attr-defined]
    assert report.status == ("PARTIAL" if rewrites else "SUCCEEDED"), report.issues
    assert all(i.kind == "revision" for i in report.issues)
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    # Faults that change the bank while it is read are spent; a re-read changes nothing.
    again = await sync_once(sessions, bank, connection_id, creds, provider, page_size=PAGE)
    assert again.status == "SUCCEEDED", again.issues
    assert (again.stats.inserted, again.stats.changed) == (0, 0)
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_a_clean_bank_ends_succeeded_and_reconciled_on_every_account(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    for customer in bank.truth.customers:
        connection_id, creds = await connect(sessions, bank, customer.username, "alif")
        report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
        assert report.status == "SUCCEEDED", report.issues
        assert report.unreconciled == []
    async with sessions() as s:
        checks = (await s.execute(select(table(AccountReconciliation)))).all()
        accounts = (await s.execute(select(func.count()).select_from(table(Account)))).scalar()
    assert len(checks) == accounts and all(c.reconciled for c in checks)
    assert all(c.difference_minor == 0 for c in checks)


@pytest.mark.parametrize("position", [0.2, 0.5, 0.9])
async def test_a_row_hidden_from_the_listing_ends_unreconciled_naming_account_and_day(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, position: float
) -> None:
    username = bank.truth.customers[0].username
    account = bank.truth.accounts_of(username)[-1]
    booked = [t for t in bank.truth.truth(account.id) if t.status == "BOOKED"]
    hidden = booked[int(len(booked) * position)]
    bank.faults.hidden_from_listing = [hidden.id]
    connection_id, creds = await connect(sessions, bank, username, "alif")

    report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)

    assert report.status == "UNRECONCILED"
    [gap] = report.unreconciled
    assert gap.account_external_id == account.id
    assert gap.difference_minor == hidden.amount_minor
    # The day the difference first shows: the hidden row's own day, or the last day with
    # rows before it when it was alone on its day.
    days_before = {t.posted.date() for t in booked if t.posted < hidden.posted}
    assert gap.first_day in {hidden.posted.date(), max(days_before, default=None)}
    async with sessions() as s:
        run = (await s.execute(select(table(SyncRun)))).one()
        check = (
            await s.execute(
                select(table(AccountReconciliation)).where(
                    table(AccountReconciliation).c.reconciled.is_(False)
                )
            )
        ).one()
    assert run.status == "UNRECONCILED"
    assert check.difference_minor == hidden.amount_minor and check.first_day == gap.first_day
    # Everything else is stored exactly.
    expected = bank_rows(bank, username)
    expected[account.id].remove(tuple(hidden))
    assert await ledger_rows(sessions, connection_id) == expected


async def test_clock_skew_between_bank_and_us_loses_nothing_at_the_window_edge(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
    account = bank.truth.accounts_of(username)[0]
    for skew in (-600, 540, -3000):
        bank.faults.clock_skew_seconds = skew
        bank.clock.now += timedelta(minutes=3)
        bank.truth.add_transactions(account.id, 5)
        report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
        assert report.status == "SUCCEEDED", report.issues
        await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_both_legs_of_an_own_account_transfer_with_one_id_are_two_rows(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    customer = next(
        c
        for c in bank.truth.customers
        if len({a.currency for a in bank.truth.accounts_of(c.username)}) == 1
        and len(bank.truth.accounts_of(c.username)) > 1
    )
    first, second = bank.truth.accounts_of(customer.username)[:2]
    bank.faults.shared_transfer_ids = True
    connection_id, creds = await connect(sessions, bank, customer.username, "obp")
    await sync_once(sessions, bank, connection_id, creds, "obp", page_size=PAGE)
    debit, credit = bank.truth.own_transfer(first.id, second.id, 1234)
    assert debit.id == credit.id

    for _ in range(3):  # it must not flip between the accounts from sync to sync
        report = await sync_once(sessions, bank, connection_id, creds, "obp", page_size=PAGE)
        assert report.status == "SUCCEEDED", report.issues
        await assert_ledger_equals_bank(sessions, bank, customer.username, connection_id)
    async with sessions() as s:
        legs = (
            await s.execute(select(TX.c.amount_minor).where(TX.c.external_id == debit.id))
        ).scalars()
        assert sorted(legs) == [-1234, 1234]


async def test_bad_records_of_the_bank_are_quarantined_exactly(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    rows = [t for a in bank.truth.accounts_of(username) for t in bank.truth.truth(a.id)]
    hidden_dates, nans = [rows[3].id, rows[-4].id], [rows[10].id, rows[-9].id]
    bank.faults.hidden_dates = hidden_dates
    bank.faults.bare_nan_records = nans

    for _ in range(2):  # the bad records stay bad: every run quarantines them, stores the rest
        report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
        assert report.status == "PARTIAL"
        issues = await _issues(sessions, report.run_id)
        assert set(hidden_dates + nans) <= set(issues)
        assert all("hidden" in issues[i] for i in hidden_dates)
        assert all("NaN" in issues[i] for i in nans)
        expected = bank_rows(bank, username)
        for ext in expected:
            expected[ext] = [r for r in expected[ext] if r[0] not in hidden_dates + nans]
        assert await ledger_rows(sessions, connection_id) == expected


async def test_fields_at_obp_sizes_are_stored_whole(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    rows = [t for a in bank.truth.accounts_of(username) for t in bank.truth.truth(a.id)]
    longest = [rows[1].id, rows[len(rows) // 2].id, rows[-1].id]
    bank.faults.max_length_fields = longest

    report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)

    assert report.status == "SUCCEEDED", report.issues
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    async with sessions() as s:
        stored = (
            await s.execute(
                select(TX.c.counterparty_name, TX.c.description).where(
                    TX.c.external_id.in_(longest)
                )
            )
        ).all()
    assert len(stored) == 3
    assert all(len(name) == 255 and len(text) == 2000 for name, text in stored)


async def test_a_changed_booked_row_is_a_revision_never_an_overwrite(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
    account = bank.truth.accounts_of(username)[0]
    booked = [t for t in bank.truth.truth(account.id) if t.status == "BOOKED"]
    changed, moved, renamed, removed = booked[5], booked[len(booked) // 3], booked[-3], booked[8]
    bank.truth.change_booked(account.id, changed.id, amount_minor=changed.amount_minor - 50)
    bank.truth.change_booked(account.id, moved.id, posted=moved.posted - timedelta(days=2))
    bank.truth.change_booked(account.id, renamed.id, counterparty=Party("Шарикати Нав"))
    bank.truth.remove_booked(account.id, removed.id)

    # Old history is re-read by a full sync (an auditor's, or the periodic one): an
    # incremental run sees only changes inside its window or that move balances.
    report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE, full=True)

    assert report.status == "PARTIAL"  # revisions are issues someone should look at
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    issues = await _issues(sessions, report.run_id)
    assert {changed.id, moved.id, renamed.id, removed.id} <= set(issues)
    revisions = table(TransactionRevision)
    async with sessions() as s:
        kept = {
            ext: (kind, amount, at)
            for ext, kind, amount, at in await s.execute(
                select(
                    TX.c.external_id,
                    revisions.c.kind,
                    revisions.c.amount_minor,
                    revisions.c.booked_at,
                ).join(TX, TX.c.id == revisions.c.transaction_id)
            )
        }
    assert kept[changed.id][:2] == ("CHANGED", changed.amount_minor)
    assert kept[moved.id][0] == "CHANGED" and kept[moved.id][2] == moved.posted
    assert kept[renamed.id][0] == "CHANGED"
    assert kept[removed.id][0] == "REMOVED"
    # A further sync of the now unchanged bank records nothing new.
    again = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
    assert again.status == "SUCCEEDED", again.issues
    assert (again.stats.inserted, again.stats.changed) == (0, 0)


@pytest.mark.parametrize("weeks", [1, 3, 5])
async def test_a_pending_row_booked_weeks_later_without_a_link_is_settled(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, weeks: int
) -> None:
    customer = next(
        c
        for c in bank.truth.customers
        if any(bank.truth.pending_transactions(a.id) for a in bank.truth.accounts_of(c.username))
    )
    account = next(
        a
        for a in bank.truth.accounts_of(customer.username)
        if bank.truth.pending_transactions(a.id)
    )
    bank.faults.unlinked_pending = True
    connection_id, creds = await connect(sessions, bank, customer.username, "obp")
    await sync_once(sessions, bank, connection_id, creds, "obp", page_size=PAGE)
    pending = bank.truth.pending_transactions(account.id)

    for _ in range(weeks):  # life goes on; the holds stay pending; we sync every week
        bank.clock.now += timedelta(days=7)
        bank.truth.add_transactions(account.id, 30)
        report = await sync_once(sessions, bank, connection_id, creds, "obp", page_size=PAGE)
        assert report.status == "SUCCEEDED", report.issues
        await assert_ledger_equals_bank(sessions, bank, customer.username, connection_id)
    bank.truth.book_pending(account.id, [pending[0].id])
    report = await sync_once(sessions, bank, connection_id, creds, "obp", page_size=PAGE)

    assert report.status == "SUCCEEDED", report.issues
    await assert_ledger_equals_bank(sessions, bank, customer.username, connection_id)
    async with sessions() as s:
        settled = (
            await s.execute(select(TX.c.superseded_at).where(TX.c.external_id == pending[0].id))
        ).scalar_one()
    assert settled is not None


async def test_a_refused_login_is_never_retried(
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
    bank: Bank,
    family: tuple[str, int, Credentials],
) -> None:
    _, connection_id, creds = family
    bank.faults.refuse_logins = True

    report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)

    assert report.status == "FAILED"
    assert bank.truth.login_attempts == 1
    async with sessions() as s:
        status = (
            await s.execute(
                select(table(Connection).c.status).where(table(Connection).c.id == connection_id)
            )
        ).scalar_one()
    assert status == "REAUTH_REQUIRED"

    # `sync --all` leaves it alone (the CLI prints how to re-link it).
    skipped: list[Skipped] = []
    reports = await sync_connections(
        None,
        full=False,
        database_url=db_url,
        keys=KEYS,
        transport=httpx.ASGITransport(app=bank.app),
        skipped=skipped,
    )
    assert reports == [] and skipped == [Skipped(connection_id, RELINK)]
    assert bank.truth.login_attempts == 1


async def test_an_account_shared_through_another_view_is_synced_through_it(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    shared = bank.truth.accounts_of(username)[-1]
    bank.faults.shared_views = {shared.id: "accountant"}

    report = await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)

    assert report.status == "SUCCEEDED", report.issues
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_retry_after_as_an_http_date_is_honoured(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    bank.faults.rate_limit_per_minute = 6
    bank.faults.retry_after_http_date = True
    connector = connector_for(bank, "alif", creds, page_size=PAGE)
    try:
        report = await SyncEngine(sessions, clock=bank.clock).sync(connection_id, connector)
    finally:
        await connector.aclose()

    assert report.status == "SUCCEEDED", report.error
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)


async def test_an_account_refused_mid_run_is_an_issue_and_the_others_are_synced(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds, page_size=PAGE)
    accounts = bank.truth.accounts_of(username)
    withdrawn = accounts[0]
    before = (await ledger_rows(sessions, connection_id))[withdrawn.id]
    bank.truth.add_transactions(withdrawn.id, 3)
    connector = connector_for(bank, "alif", creds, page_size=PAGE)
    listed = connector.transaction_page

    async def refusing(account: str, **query: Any) -> Any:
        if account == withdrawn.id:  # the customer withdrew the view after the account list
            raise UpstreamForbidden("OBP-20017: no view access", status=403)
        return await listed(account, **query)

    connector.transaction_page = refusing  # type: ignore[method-assign]
    try:
        report = await SyncEngine(sessions).sync(connection_id, connector)
    finally:
        await connector.aclose()

    assert report.status == "PARTIAL"
    assert [(i.kind, i.external_id) for i in report.issues] == [("account", withdrawn.id)]
    rows = await ledger_rows(sessions, connection_id)
    expected = bank_rows(bank, username)
    assert rows[withdrawn.id] == before  # its stored history is kept as it was
    assert {k: v for k, v in rows.items() if k != withdrawn.id} == {
        k: v for k, v in expected.items() if k != withdrawn.id
    }
