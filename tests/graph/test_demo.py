"""`alif-graph demo --no-serve`: the sandbox and the API on real ports; the demo customer
links the bank through the bank's own approval pages inside our consent flow and gets a
token. What it leaves in the database holds the bank's consent, never a bank password."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.config import SandboxConfig
from graph.cli.dev.demo import run_demo
from graph.settings import Settings
from ledger.models import Account, AuditEvent, Connection, Consent, ExchangeRate

from .helpers import KEYS, SECRET, columns_holding, stored_credentials


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_demo_links_at_the_banks_pages_and_stores_no_bank_password(
    db_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(database_url=db_url, secret_key=SECRET)

    await run_demo(settings, serve_api=False, sandbox_port=_free_port(), api_port=_free_port())

    printed = capsys.readouterr().out
    assert "linking at the bank as" in printed and "access token" in printed
    assert "NBT rates" in printed and "from the sandbox's feed" in printed
    # The same seed: the demo's customer, as the bank knows them.
    customer = create_sandbox(SandboxConfig(seed=42)).state.bank.customers[0]
    async with sessions() as session:
        connection = (await session.execute(select(Connection))).scalar_one()
        accounts = (await session.execute(select(Account.id))).scalars().all()
        consent = (await session.execute(select(Consent))).scalar_one()
        audits = (
            await session.execute(
                select(AuditEvent.outcome).where(AuditEvent.operation == "auth.bank.link")
            )
        ).scalars()
        assert list(audits) == ["ok"]
    assert accounts and consent.status == "AUTHORISED"
    async with sessions() as session:
        days = (await session.execute(select(ExchangeRate.on_date).distinct())).scalars().all()
    assert len(days) > 200  # a year of weekdays, from the sandbox's NBT feed
    assert connection.upstream_consent_expires_at is not None
    (stored,) = await stored_credentials(sessions, KEYS)
    assert stored.consent_id and stored.consent_jwt
    assert stored.username is None and stored.password is None
    assert await columns_holding(sessions, customer.password) == []
    # The sandbox's banner lists its customers' logins; nothing after it repeats one.
    assert customer.password not in printed.split("Consent flow", 1)[1]
