"""Linking an Alif account through the bank's own consent flow, against the sandbox bank."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.cli.sync import sync_connections
from graph.server.app import create_app
from graph.settings import Settings
from ledger.models import Account, Connection

from ..helpers import SECRET
from .support import Clock, Flow, Registered, graphql

SANDBOX = "http://sandbox.test"
ACCOUNTS = "{ accounts(first: 50) { totalCount edges { node { currency } } } }"


@dataclass
class Linked:
    http: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    bank: SandboxBank
    sender: DevelopmentSender
    transport: httpx.ASGITransport
    sessions: async_sessionmaker[AsyncSession]
    db_url: str


@pytest.fixture
async def linked(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
) -> AsyncIterator[Linked]:
    sandbox_app = create_sandbox(SandboxConfig(seed=42, customers=1, months=1))
    bank: SandboxBank = sandbox_app.state.bank
    operator = bank.customers[0]
    configured = settings.model_copy(
        update={
            "bank_base_url": SANDBOX,
            "bank_id": bank.bank_id,
            "bank_operator_username": operator.username,
            "bank_operator_password": SecretStr(operator.password),
            "bank_consumer_key": SecretStr(bank.consumer_key),
        }
    )
    transport = httpx.ASGITransport(app=sandbox_app)
    sender = DevelopmentSender(reveal_codes=True)
    app = create_app(
        configured,
        engine=engine,
        auth=AuthConfig(sender=sender, clock=Clock(), bank_transport=transport),
    )
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        ) as http,
        httpx.AsyncClient(transport=transport, base_url=SANDBOX) as sandbox,
    ):
        yield Linked(http, sandbox, bank, sender, transport, sessions, db_url)


async def _bank_code(linked: Linked) -> str:
    username = linked.bank.customers[0].username
    consent = linked.bank.consents_of(username)[-1]
    answer = await linked.sandbox.get(f"/sandbox/admin/sca-codes/{consent.consent_id}")
    code: str = answer.json()["code"]
    return code


async def test_a_customer_links_alif_with_the_banks_code_and_shares_the_accounts(
    linked: Linked, registered: Registered
) -> None:
    customer = linked.bank.customers[0]
    flow = Flow(linked.http, registered, linked.sender)
    await flow.signed_in(customer.phone)
    assert flow.walker.account_ids() == []  # nothing linked yet
    await flow.walker.post("/auth/flow/bank")
    assert "Код от банка Alif" in flow.walker.page
    await flow.walker.post("/auth/flow/bank-code", {"code": await _bank_code(linked)})
    assert "Счёт Alif подключён." in flow.walker.page
    bank_accounts = linked.bank.accounts_of(customer.username)
    assert len(flow.walker.account_ids()) == len(bank_accounts)

    back = await flow.approve()
    tokens = (await flow.exchange(back["code"])).json()
    body = (await graphql(linked.http, tokens["access_token"], ACCOUNTS)).json()
    assert body["data"]["accounts"]["totalCount"] == len(bank_accounts)

    # Only the bank's consent is kept: no username, no password.
    async with linked.sessions() as session:
        connection = (await session.execute(select(Connection))).scalar_one()
    stored = credentials.decrypt(connection.credentials_encrypted, SECRET)
    assert stored.consent_jwt and stored.consent_id
    assert stored.username is None and stored.password is None
    assert customer.password.encode() not in connection.credentials_encrypted
    assert connection.upstream_consent_expires_at is not None

    # A later sync runs on the consent alone.
    (report,) = await sync_connections(
        [int(connection.id or 0)],
        full=False,
        database_url=linked.db_url,
        secret=SECRET,
        transport=linked.transport,
    )
    assert report.status == "SUCCEEDED", report.error


async def test_a_wrong_bank_code_links_nothing(linked: Linked, registered: Registered) -> None:
    customer = linked.bank.customers[0]
    flow = Flow(linked.http, registered, linked.sender)
    await flow.signed_in(customer.phone)
    await flow.walker.post("/auth/flow/bank")
    right = await _bank_code(linked)
    await flow.walker.post("/auth/flow/bank-code", {"code": f"{(int(right) + 1) % 10**6:06d}"})
    assert "Банк не принял код" in flow.walker.page
    async with linked.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Connection))).scalar() == 0
        assert (await session.execute(select(func.count()).select_from(Account))).scalar() == 0


async def test_relinking_replaces_the_connection_instead_of_adding_one(
    linked: Linked, registered: Registered
) -> None:
    customer = linked.bank.customers[0]
    for _ in range(2):
        flow = Flow(linked.http, registered, linked.sender)
        linked.http.cookies.clear()
        await flow.signed_in(customer.phone)
        await flow.walker.post("/auth/flow/bank")
        await flow.walker.post("/auth/flow/bank-code", {"code": await _bank_code(linked)})
        assert "Счёт Alif подключён." in flow.walker.page
    async with linked.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Connection))).scalar() == 1
