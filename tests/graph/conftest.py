"""The API under test: the real ASGI app over the test database, and a way to ask it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.server.app import create_app
from graph.settings import Settings, get_settings

from .helpers import SECRET, Api
from .ledger_data import LedgerData, build_ledger


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The environment a CLI command reads its settings from: the test's database."""
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    monkeypatch.setenv("ALIF_GRAPH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, secret_key=SECRET)


@pytest.fixture
async def ledger(sessions: async_sessionmaker[AsyncSession]) -> LedgerData:
    async with sessions() as session, session.begin():
        return await build_ledger(session)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
        yield c


@pytest.fixture
def api(client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> Api:
    return Api(client, sessions)


AppApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def app_api(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AppApi]:
    """Makes an API over the test database with some settings changed."""
    async with AsyncExitStack() as stack:

        async def make(**changes: Any) -> Api:
            app = create_app(settings.model_copy(update=changes), engine=engine)
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url="http://api.test")
            return Api(await stack.enter_async_context(client), sessions)

        yield make
