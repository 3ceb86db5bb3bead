"""`alif-graph sync` progress when stdout is no terminal: one plain line per account,
naming it, with its counts (of the bank's totals, where it reports them) and a rate."""

from __future__ import annotations

import re
from itertools import count

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sync import AccountStage, SyncEngine
from graph.cli.sync import _LineProgress
from ledger.models import Account, table

from ..connectors.sync_kit import AS_OF, Bank, Clock, connect, connector_for


def test_one_line_per_account_with_counts_totals_and_rate():
    lines: list[str] = []
    ticks = count()
    progress = _LineProgress(lines.append, clock=lambda: float(next(ticks)))
    wallet = AccountStage("a1", "Wallet (TJS)", 1, 2, "transfers")
    card = AccountStage("a2", "Card (USD)", 2, 2, "transfers")

    progress.account(wallet)  # t=0
    progress.advance(3)
    progress.account(card)  # t=1: the wallet's transfers took 1 s
    progress.advance(0)
    progress.account(AccountStage("a1", "Wallet (TJS)", 1, 2, "transactions"))  # t=2
    progress.advance(100, total=250)
    progress.advance(150, total=250)
    assert lines == []  # nothing until the account is done
    progress.account_done("a1")  # t=3: 2 s in all
    progress.account(AccountStage("a2", "Card (USD)", 2, 2, "transactions"))  # t=4
    progress.account_done("a2")  # t=5

    assert lines == [
        "account 1/2 Wallet (TJS): 3 transfers, 250/250 transactions in 2.0 s (126 records/s)",
        "account 2/2 Card (USD): 0 transfers, 0 transactions in 2.0 s (0 records/s)",
    ]


async def test_a_sync_writes_one_line_per_account_the_bank_lists(
    sessions: async_sessionmaker[AsyncSession],
):
    clock = Clock()
    bank = Bank(
        create_app(SandboxConfig(seed=7, customers=1, months=2, as_of=AS_OF, clock=clock)), clock
    )
    customer = bank.truth.customers[0]
    connection_id, creds = await connect(sessions, bank, customer.username, "alif")
    lines: list[str] = []
    connector = connector_for(bank, "alif", creds, page_size=25)
    try:
        report = await SyncEngine(sessions, progress=_LineProgress(lines.append)).sync(
            connection_id, connector
        )
    finally:
        await connector.aclose()

    assert report.status == "SUCCEEDED", report.error
    async with sessions() as s:
        stored = (
            await s.execute(
                select(table(Account).c.name, table(Account).c.currency).where(
                    table(Account).c.connection_id == connection_id
                )
            )
        ).all()
    line = re.compile(
        r"account (\d+)/(\d+) (.+): ([\d,]+) transfers, ([\d,]+) transactions "
        r"in [\d.]+ s \([\d,]+ records/s\)"
    )
    matches = [line.fullmatch(text) for text in lines]
    assert all(matches), lines
    assert [(int(m[1]), int(m[2])) for m in matches if m] == [
        (n, len(stored)) for n in range(1, len(stored) + 1)
    ]
    assert {m[3] for m in matches if m} == {f"{name} ({currency})" for name, currency in stored}
    transactions = sum(int(m[5].replace(",", "")) for m in matches if m)
    assert transactions >= sum(
        bank.truth.count_transactions(a.id) for a in bank.truth.accounts_of(customer.username)
    )
