"""`alif-graph connect` against the sandbox bank over real HTTP: one login, then the
connection; a refused login stores nothing and is not repeated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from graph.cli.dev.demo import serving
from graph.cli.main import app
from ledger.models import Connection, User, table

runner = CliRunner()


class Counted:
    """The sandbox bank, counting the requests it is sent."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.paths = inner, []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.inner(scope, receive, send)


@pytest.fixture
async def bank() -> AsyncIterator[tuple[Any, Counted, str]]:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    sandbox = create_app(SandboxConfig(seed=3, customers=1, months=1, as_of=at))
    counted = Counted(sandbox)
    async with serving(counted, "127.0.0.1", 0) as server:
        port = server.servers[0].sockets[0].getsockname()[1]
        yield sandbox.state.bank, counted, f"http://127.0.0.1:{port}"


async def connect(url: str, username: str, password: str, key: str, *extra: str) -> Any:
    args = ["connect", "alif", "--base-url", url, "--username", username]
    args += ["--password", password, "--consumer-key", key, *extra]
    return await asyncio.to_thread(runner.invoke, app, args)


async def counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessions() as s:
        connections = await s.scalar(select(func.count()).select_from(table(Connection)))
        users = await s.scalar(select(func.count()).select_from(table(User)))
    return int(connections or 0), int(users or 0)


async def test_connect_logs_in_once_and_stores_the_normalised_phone(
    env: None, sessions: async_sessionmaker[AsyncSession], bank: tuple[Any, Counted, str]
):
    truth, counted, url = bank
    customer = truth.customers[0]

    result = await connect(
        url, customer.username, customer.password, truth.consumer_key, "--phone", "90 123 45 67"
    )

    assert result.exit_code == 0, result.output
    assert counted.paths == ["/my/logins/direct"]
    async with sessions() as s:
        row = (await s.execute(select(table(Connection).c.id))).one()
        phone = await s.scalar(select(table(User).c.phone))
    assert result.stdout.strip() == f"connection {row.id}"
    assert phone == "+992901234567"


@pytest.mark.parametrize("wrong", ["password", "consumer_key"])
async def test_a_refused_login_is_one_call_and_stores_nothing(
    env: None,
    sessions: async_sessionmaker[AsyncSession],
    bank: tuple[Any, Counted, str],
    wrong: str,
):
    truth, counted, url = bank
    customer = truth.customers[0]
    given = {"password": customer.password, "consumer_key": truth.consumer_key, wrong: "nope"}

    result = await connect(url, customer.username, given["password"], given["consumer_key"])

    assert result.exit_code == 1
    assert "the bank refused the login" in result.output
    assert "Nothing was stored" in result.output and "Traceback" not in result.output
    assert "nope" not in result.output
    assert counted.paths == ["/my/logins/direct"]  # not retried: lockouts count refusals
    assert await counts(sessions) == (0, 0)
