"""Fixtures shared by the connector tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig

from .sync_kit import AS_OF, Bank, Clock, connect


@pytest.fixture
def load(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Reads a JSON file from the `fixtures` folder beside the test, numbers as Decimal."""
    fixtures = request.path.parent / "fixtures"

    def _load(name: str) -> Any:
        return json.loads((fixtures / name).read_text(), parse_float=Decimal)

    return _load


@pytest.fixture
def bank() -> Bank:
    clock = Clock()
    config = SandboxConfig(seed=7, customers=3, months=3, as_of=AS_OF, clock=clock)
    return Bank(create_app(config), clock)


@pytest.fixture
async def family(
    sessions: async_sessionmaker[AsyncSession], bank: Bank
) -> AsyncIterator[tuple[str, int, Credentials]]:
    username = bank.truth.customers[0].username
    connection_id, creds = await connect(sessions, bank, username, "alif")
    yield username, connection_id, creds
