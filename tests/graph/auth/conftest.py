"""The consent flow under test: the real app with a development code sender, a movable
clock, a registered client and two customers with accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import clients
from graph.auth.runtime import AuthConfig
from graph.auth.sms import DevelopmentSender
from graph.settings import Settings
from ledger import connections
from ledger.models import Account, table
from ledger.types import utcnow

from .support import PHONE_A, PHONE_B, REDIRECT_URI, Customers, Registered


class Clock:
    """Now, unless a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Harness:
    http: httpx.AsyncClient
    sender: DevelopmentSender
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender() -> DevelopmentSender:
    return DevelopmentSender(reveal_codes=True)


@pytest.fixture
async def harness(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    sender: DevelopmentSender,
    clock: Clock,
) -> AsyncIterator[Harness]:
    app = create_app(settings, engine=engine, auth=AuthConfig(sender=sender, clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield Harness(http, sender, clock, sessions)


@pytest.fixture
async def registered(sessions: async_sessionmaker[AsyncSession]) -> Registered:
    async with sessions.begin() as session:
        new = await clients.create(
            session,
            name="Budget <b>App</b>",
            redirect_uris=[REDIRECT_URI, "https://budget.example/other"],
        )
    return Registered(new.client.client_id, new.secret, REDIRECT_URI, new.client.id)


@pytest.fixture
async def customers(sessions: async_sessionmaker[AsyncSession]) -> Customers:
    accounts = table(Account)
    ids: dict[str, list[int]] = {}
    async with sessions.begin() as session:
        institution = await connections.ensure_institution(
            session, "alif", "Alif Bank", "TJ", "ALIFTJ22"
        )
        for phone, currencies in ((PHONE_A, ("TJS", "USD")), (PHONE_B, ("TJS",))):
            user = await connections.ensure_user(session, phone)
            connection = await connections.add_connection(
                session,
                user_id=user,
                institution_id=institution,
                provider="alif",
                base_url="http://bank.test",
                bank_id="alif.tj",
                credentials_encrypted=b"",
            )
            for n, currency in enumerate(currencies):
                result = await session.execute(
                    accounts.insert()
                    .values(
                        connection_id=connection,
                        external_id=f"{phone}-{n}",
                        institution_id=institution,
                        user_id=user,
                        type="WALLET",
                        name=f"Wallet {currency}",
                        number_masked=f"•••• {1000 + n}",
                        currency=currency,
                        payload_hash="x",
                    )
                    .returning(accounts.c.id)
                )
                ids.setdefault(phone, []).append(int(result.scalar_one()))
    return Customers(a=ids[PHONE_A], b=ids[PHONE_B])
