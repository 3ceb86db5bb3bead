"""Fixtures for the sandbox bank: an in-process app, a client over ASGI, a movable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from connectors.sandbox import SandboxBank, SandboxConfig, create_app

from .sandbox_support import AS_OF, FakeClock, Login


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 7, 1, 9, 0, 0, tzinfo=UTC))


@pytest.fixture
def config(clock: FakeClock) -> SandboxConfig:
    return SandboxConfig(seed=42, as_of=AS_OF, clock=clock)


@pytest.fixture
def app(config: SandboxConfig) -> Starlette:
    return create_app(config)


@pytest.fixture
def bank(app: Starlette) -> SandboxBank:
    sandbox: SandboxBank = app.state.bank
    return sandbox


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


@pytest.fixture
def login(client: httpx.AsyncClient, bank: SandboxBank) -> Login:
    """Log a demo customer in; returns the DirectLogin header to send."""

    async def log_in(username: str = "dilnoza") -> dict[str, str]:
        credentials = (
            f'username="{username}", password="{username}-pass", consumer_key="{bank.consumer_key}"'
        )
        response = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
        assert response.status_code == 201, response.text
        return {"DirectLogin": f'token="{response.json()["token"]}"'}

    return log_in
