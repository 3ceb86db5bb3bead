"""Account.liveBalances asks the sandbox bank, once per connection, and degrades to a typed
UPSTREAM_UNAVAILABLE error (stored balances still readable) when the bank is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.alif.constants import ALIF_INSTITUTION
from connectors.credentials import Credentials, encrypt
from connectors.factory import open_connector
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sync import SyncEngine
from graph.auth.runtime import AuthConfig
from graph.server.app import create_app
from graph.settings import Settings
from ledger import connections

from .helpers import KEYS, SECRET, Api

QUERY = """
query Live {
  accounts(first: 10) {
    edges {
      node {
        currency
        balances { type amount { amount } }
        liveBalances { type amount { amount currency } }
      }
    }
  }
}
"""


class CountingTransport(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, counting the requests per path."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sandbox() -> object:
    return create_sandbox(SandboxConfig(seed=11, months=2, as_of=datetime(2026, 11, 1, tzinfo=UTC)))


@pytest.fixture
async def linked(
    sandbox: object, sessions: async_sessionmaker[AsyncSession]
) -> tuple[str, list[str]]:
    """The business customer (several accounts) linked and synced; returns their phone."""
    bank = sandbox.state.bank  # type: ignore[attr-defined]
    customer = next(c for c in bank.customers if c.archetype == "business")
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=customer.phone,
            institution=ALIF_INSTITUTION,
            provider="alif",
            base_url="http://sandbox",
            bank_id=bank.bank_id,
            credentials_encrypted=encrypt(creds, KEYS),
        )
    connector = open_connector(
        "alif", "http://sandbox", bank.bank_id, creds, transport=httpx.ASGITransport(app=sandbox)
    )
    await SyncEngine(sessions).sync(connection_id, connector)
    await connector.aclose()
    return customer.phone, [a.id for a in bank.accounts_of(customer.username)]


@pytest.fixture
async def api_and_bank(
    db_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], sandbox: object
) -> AsyncIterator[tuple[Api, CountingTransport]]:
    transport = CountingTransport(sandbox)
    app = create_app(
        Settings(database_url=db_url, secret_key=SECRET),
        engine=engine,
        auth=AuthConfig(bank_transport=transport),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield Api(client, sessions), transport


async def test_live_balances_come_from_the_bank_in_one_call_per_connection(
    api_and_bank: tuple[Api, CountingTransport], linked: tuple[str, list[str]], sandbox: object
) -> None:
    api, transport = api_and_bank
    phone, bank_accounts = linked
    bank = sandbox.state.bank  # type: ignore[attr-defined]

    body = await api.query(QUERY, token=await api.token(phone=phone))

    assert "errors" not in body, body
    nodes = [e["node"] for e in body["data"]["accounts"]["edges"]]
    assert len(nodes) == len(bank_accounts) >= 2
    live = sorted(
        (n["currency"], b["type"], Decimal(b["amount"]["amount"]))
        for n in nodes
        for b in n["liveBalances"]
    )
    expected = []
    for account_id in bank_accounts:  # TJS and USD: both two decimals
        expected.append(("BOOKED", Decimal(bank.booked_balance_minor(account_id)).scaleb(-2)))
        expected.append(("AVAILABLE", Decimal(bank.available_balance_minor(account_id)).scaleb(-2)))
    assert sorted((t, a) for _, t, a in live) == sorted(expected)
    assert [p for p in transport.paths if p.endswith("/balances")] == [
        "/obp/v5.1.0/banks/alif.tj/balances"
    ]


async def test_a_bank_that_does_not_answer_gives_a_typed_error_and_stored_balances(
    api_and_bank: tuple[Api, CountingTransport], linked: tuple[str, list[str]], sandbox: object
) -> None:
    api, _ = api_and_bank
    phone, _ = linked
    sandbox.state.faults.configure(FaultConfig(fail_next=100))  # type: ignore[attr-defined]

    body = await api.query(QUERY, token=await api.token(phone=phone))

    nodes = [e["node"] for e in body["data"]["accounts"]["edges"]]
    assert all(n["liveBalances"] is None for n in nodes)
    assert all(n["balances"] for n in nodes)
    errors = body["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"UPSTREAM_UNAVAILABLE"}
    assert len(errors) == len(nodes)
    assert all("sandbox" not in e["message"] and "OBP-" not in e["message"] for e in errors)
