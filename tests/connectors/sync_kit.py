"""What the sync tests share: the sandbox bank on a fake clock, linking a customer, one
sync, and the assertion that the ledger equals the bank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import Connector
from connectors.credentials import Credentials, encrypt
from connectors.factory import institution_of, open_connector
from connectors.keys import Keyring
from connectors.sandbox.config import FaultConfig
from connectors.sync import SyncEngine, SyncReport
from ledger import connections
from ledger.models import Account, BalanceSnapshot, Transaction, table

SECRET = "test-secret"
KEYS = Keyring(SECRET)
AS_OF = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
TX = table(Transaction)


class Clock:
    """The sandbox's clock; the client's backoff sleeps advance it instead of waiting."""

    def __init__(self) -> None:
        self.now = AS_OF + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Bank:
    app: Any
    clock: Clock

    @property
    def truth(self) -> Any:
        return self.app.state.bank

    @property
    def faults(self) -> FaultConfig:
        return self.truth.config.faults  # type: ignore[no-any-return]

    def configure(self, **knobs: Any) -> None:
        """Set fault knobs and reseed the sandbox's random stream."""
        self.app.state.faults.configure(FaultConfig(**knobs))


async def connect(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, username: str, provider: str
) -> tuple[int, Credentials]:
    customer = bank.truth.customer(username)
    creds = Credentials(
        consumer_key=bank.truth.consumer_key, username=username, password=customer.password
    )
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=customer.phone,
            institution=institution_of("alif", "alif.tj"),
            provider=provider,
            base_url="http://sandbox",
            bank_id="alif.tj",
            credentials_encrypted=encrypt(creds, KEYS),
        )
    return connection_id, creds


def connector_for(bank: Bank, provider: str, creds: Credentials, **options: Any) -> Connector:
    return open_connector(
        provider,
        "http://sandbox",
        "alif.tj",
        creds,
        transport=httpx.ASGITransport(app=bank.app),
        sleep=bank.clock.sleep,
        **options,
    )


async def sync_once(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    connection_id: int,
    creds: Credentials,
    provider: str = "alif",
    page_size: int = 100,
    *,
    full: bool = False,
) -> SyncReport:
    connector = connector_for(bank, provider, creds, page_size=page_size)
    try:
        return await SyncEngine(sessions).sync(connection_id, connector, full=full)
    finally:
        await connector.aclose()


async def ledger_rows(
    sessions: async_sessionmaker[AsyncSession], connection_id: int
) -> dict[str, list[tuple[Any, ...]]]:
    """Each account's counted rows (not superseded, not removed), by upstream account id:
    (id, minor units, status, bank instant, balance after), sorted."""
    async with sessions() as s:
        accounts = dict(
            (
                await s.execute(
                    select(table(Account).c.id, table(Account).c.external_id).where(
                        table(Account).c.connection_id == connection_id
                    )
                )
            ).all()
        )
        found = await s.execute(
            select(
                TX.c.account_id,
                TX.c.external_id,
                TX.c.amount_minor,
                TX.c.status,
                TX.c.booked_at,
                TX.c.balance_after_minor,
            ).where(
                TX.c.account_id.in_(list(accounts)),
                TX.c.superseded_at.is_(None),
                TX.c.removed_at.is_(None),
            )
        )
        rows: dict[str, list[tuple[Any, ...]]] = {ext: [] for ext in accounts.values()}
        for account_id, *row in found:
            rows[accounts[account_id]].append(tuple(row))
    return {ext: sorted(r) for ext, r in rows.items()}


def bank_rows(bank: Bank, username: str) -> dict[str, list[tuple[Any, ...]]]:
    """The same, as the bank holds them (its truth API)."""
    return {
        a.id: sorted(tuple(t) for t in bank.truth.truth(a.id))
        for a in bank.truth.accounts_of(username)
    }


async def assert_ledger_equals_bank(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, username: str, connection_id: int
) -> None:
    """Ids per account, minor units, status, instant and balance per row, and the latest
    booked balance snapshot: all exactly the bank's."""
    assert await ledger_rows(sessions, connection_id) == bank_rows(bank, username)
    async with sessions() as s:
        snapshots = table(BalanceSnapshot)
        for account in bank.truth.accounts_of(username):
            latest = (
                await s.execute(
                    select(snapshots.c.amount_minor)
                    .join(table(Account), table(Account).c.id == snapshots.c.account_id)
                    .where(
                        table(Account).c.connection_id == connection_id,
                        table(Account).c.external_id == account.id,
                        snapshots.c.type == "BOOKED",
                    )
                    .order_by(snapshots.c.id.desc())
                    .limit(1)
                )
            ).scalar_one()
            assert latest == bank.truth.booked_balance_minor(account.id), account.id
