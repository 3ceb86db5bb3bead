"""The consent flow under test: the real app with a development code sender, a movable
clock, a registered client and two customers with accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients
from graph.auth.runtime import AuthConfig
from graph.server.app import create_app
from graph.settings import Settings

from .support import PHONE_A, PHONE_B, REDIRECT_URI, Clock, Customers, Registered, add_customer


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
    async with sessions.begin() as session:
        a = await add_customer(session, PHONE_A, ("TJS", "USD"))
        b = await add_customer(session, PHONE_B, ("TJS",))
    return Customers(a=a, b=b)
