"""What a SUCCEEDED run proves (docs/sync.md, completeness), over real HTTP to the sandbox
on SQLite and PostgreSQL: the opening balance an account's listing starts from (a hidden
earliest row ends UNRECONCILED where the bank reports the opening, is said UNPROVEN where
it does not), and the periodic whole-history read that sees old changes that keep every
balance."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from connectors.sandbox.models import Party
from connectors.sync import EPOCH, SyncEngine, SyncReport
from ledger.models import AccountReconciliation, table
from ledger.reconciliation import Opening
from ledger.sync_store import Trigger

from .sync_kit import TX, Bank, bank_rows, connect, connector_for, ledger_rows

PAGE = 40
CHECKS = table(AccountReconciliation)


async def _sync(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    connection_id: int,
    creds: Credentials,
    provider: str = "alif",
    trigger: Trigger = Trigger.UNATTENDED,
) -> SyncReport:
    connector = connector_for(bank, provider, creds, page_size=PAGE)
    try:
        engine = SyncEngine(sessions, clock=bank.clock)
        return await engine.sync(connection_id, connector, trigger=trigger)
    finally:
        await connector.aclose()


def _booked(bank: Bank, account_id: str) -> list:
    return sorted(
        (t for t in bank.truth.truth(account_id) if t.status == "BOOKED"), key=lambda t: t.posted
    )


@pytest.mark.parametrize("which", [0, -1])
async def test_a_hidden_earliest_row_ends_unreconciled_naming_account_and_day(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, which: int
) -> None:
    username = bank.truth.customers[which].username
    account = bank.truth.accounts_of(username)[which]
    booked = _booked(bank, account.id)
    hidden, first_listed = booked[0], booked[1]
    bank.faults.hidden_earliest = [account.id]
    connection_id, creds = await connect(sessions, bank, username, "alif")

    report = await _sync(sessions, bank, connection_id, creds)

    assert report.status == "UNRECONCILED"
    [gap] = report.unreconciled
    assert gap.account_external_id == account.id and gap.opening_lost
    assert gap.difference_minor == hidden.amount_minor
    assert gap.first_day == first_listed.posted.date()
    assert account.id in gap.describe() or first_listed.posted.date().isoformat() in (
        gap.describe()
    )
    async with sessions() as s:
        [check] = (await s.execute(select(CHECKS).where(CHECKS.c.reconciled.is_(False)))).all()
    assert check.opening == Opening.LOST and check.first_day == gap.first_day
    # The listing itself was read whole and is held exactly: it is the bank's that lacks it.
    assert check.proven_from == EPOCH and check.history_proven_at == bank.clock.now
    # Everything the bank lists is stored exactly; the other accounts are proven.
    expected = bank_rows(bank, username)
    expected[account.id].remove(tuple(hidden))
    assert await ledger_rows(sessions, connection_id) == expected
    others = [p for p in report.proofs if p.account_external_id != account.id]
    assert others and all(p.opening is Opening.PROVEN for p in others)

    # The next run says so again, without reading the account whole twice more.
    calls: list[tuple[str, object]] = []
    connector = connector_for(bank, "alif", creds, page_size=PAGE)
    page = connector.transaction_page

    async def counted(ext: str, **query: object) -> object:
        calls.append((ext, query.get("since")))
        return await page(ext, **query)  # type: ignore[arg-type]

    connector.transaction_page = counted  # type: ignore[method-assign]
    try:
        again = await SyncEngine(sessions, clock=bank.clock).sync(connection_id, connector)
    finally:
        await connector.aclose()
    assert again.status == "UNRECONCILED"
    assert [(g.account_external_id, g.first_day) for g in again.unreconciled] == [
        (account.id, gap.first_day)
    ]
    starts = [since for ext, since in calls if ext == account.id]
    assert starts and all(
        isinstance(since, datetime) and since.date() > first_listed.posted.date()
        for since in starts
    )


async def test_a_clean_bank_proves_every_opening_and_the_whole_history(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    for customer in bank.truth.customers:
        connection_id, creds = await connect(sessions, bank, customer.username, "alif")
        report = await _sync(sessions, bank, connection_id, creds)
        assert report.status == "SUCCEEDED", report.issues
        accounts = bank.truth.accounts_of(customer.username)
        assert sorted(p.account_external_id for p in report.proofs) == sorted(
            a.id for a in accounts
        )
        for proof in report.proofs:
            assert proof.opening is Opening.PROVEN
            assert proof.opening_minor == bank.truth.opening_balance_minor(
                proof.account_external_id
            )
            assert proof.proven_from == EPOCH and proof.history_proven_at == bank.clock.now
    async with sessions() as s:
        checks = (await s.execute(select(CHECKS))).all()
    assert checks and all(c.opening == Opening.PROVEN and c.reconciled for c in checks)


@pytest.mark.parametrize("hide", [False, True])
async def test_without_the_banks_opening_a_non_zero_one_is_said_unproven(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, hide: bool
) -> None:
    username = bank.truth.customers[1].username
    account = bank.truth.accounts_of(username)[0]
    booked = _booked(bank, account.id)
    if hide:
        bank.faults.hidden_earliest = [account.id]
    connection_id, creds = await connect(sessions, bank, username, "obp")  # no OPENING_BALANCE

    report = await _sync(sessions, bank, connection_id, creds, "obp")

    # Nothing contradicts the listing, but the run does not claim what it cannot know.
    assert report.status == "SUCCEEDED", report.issues
    proof = next(p for p in report.proofs if p.account_external_id == account.id)
    opening = bank.truth.opening_balance_minor(account.id)
    assert opening != 0
    assert proof.opening is Opening.UNPROVEN
    assert proof.opening_minor == opening + (booked[0].amount_minor if hide else 0)
    assert proof.first_row_day == booked[1 if hide else 0].posted.date()
    assert "opening unproven" in proof.describe()


async def test_old_changes_that_keep_every_balance_are_seen_by_the_scheduled_whole_read(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> None:
    username = bank.truth.customers[0].username
    connection_id, creds = await connect(sessions, bank, username, "alif")
    first = await _sync(sessions, bank, connection_id, creds)
    assert first.status == "SUCCEEDED", first.issues
    proved_at = bank.clock.now
    account = bank.truth.accounts_of(username)[0]
    booked = _booked(bank, account.id)
    balance = bank.truth.booked_balance_minor(account.id)
    renamed = [booked[2], booked[len(booked) // 4]]  # far outside the incremental window
    for row in renamed:
        bank.truth.change_booked(account.id, row.id, counterparty=Party("Ширкати Нав"))
    # Two amounts swapped within one old day: every later balance and the booked balance
    # stay as they were, so no check of the stored rows can see it.
    horizon = bank.clock.now - timedelta(days=30)
    first, second = next(
        (a, b)
        for a, b in pairwise(booked)
        if a.posted.date() == b.posted.date()
        and a.amount_minor != b.amount_minor
        and b.posted < horizon
        and a.id not in {r.id for r in renamed}
        and b.id not in {r.id for r in renamed}
    )
    bank.truth.change_booked(account.id, first.id, amount_minor=second.amount_minor)
    bank.truth.change_booked(account.id, second.id, amount_minor=first.amount_minor)
    old = [*renamed, first, second]
    assert bank.truth.booked_balance_minor(account.id) == balance

    async def names() -> set[str | None]:
        async with sessions() as s:
            found = await s.execute(
                select(TX.c.counterparty_name).where(TX.c.external_id.in_([r.id for r in renamed]))
            )
            return set(found.scalars())

    # Within the schedule an incremental run proves its window and says since when; the
    # change of old history is not yet seen, and the run does not claim it.
    bank.clock.now += timedelta(days=3)
    incremental = await _sync(sessions, bank, connection_id, creds)
    assert incremental.status == "SUCCEEDED", incremental.issues
    assert "Ширкати Нав" not in await names()
    assert await ledger_rows(sessions, connection_id) != bank_rows(bank, username)
    for proof in incremental.proofs:
        assert proof.proven_from is not None and proof.proven_from > EPOCH
        assert proof.history_proven_at == proved_at
    # A customer's own refresh after the schedule is due stays incremental.
    bank.clock.now += timedelta(days=5)
    customer = await _sync(sessions, bank, connection_id, creds, trigger=Trigger.CUSTOMER)
    assert customer.status == "SUCCEEDED" and "Ширкати Нав" not in await names()
    # The next unattended run past 7 days reads every account whole: the change is seen
    # (a revision each), and the whole history is proven again.
    due = await _sync(sessions, bank, connection_id, creds)
    assert due.status == "PARTIAL"
    assert {i.external_id for i in due.issues if i.kind == "revision"} == {r.id for r in old}
    assert await names() == {"Ширкати Нав"}
    assert all(p.proven_from == EPOCH and p.history_proven_at == bank.clock.now for p in due.proofs)
    async with sessions() as s:
        latest = (
            await s.execute(select(CHECKS.c.history_proven_at).order_by(CHECKS.c.id.desc()))
        ).first()
    assert latest is not None and latest[0] == bank.clock.now
    assert await ledger_rows(sessions, connection_id) == bank_rows(bank, username)
    # And then incremental again.
    bank.clock.now += timedelta(days=1)
    after = await _sync(sessions, bank, connection_id, creds)
    assert after.status == "SUCCEEDED" and (after.stats.inserted, after.stats.changed) == (0, 0)
    assert all(p.proven_from != EPOCH for p in after.proofs)
