"""The OBP connector against the sandbox bank over real HTTP (httpx.ASGITransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from connectors.base import TransactionRecord
from connectors.errors import ReauthRequired
from connectors.obp.auth import DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import ObpConnector
from connectors.obp.mapping import ObpMapper
from connectors.sandbox.app import create_app
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig

BASE = "http://sandbox.test"


class Recording(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, remembering every request."""

    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self._inner.handle_async_request(request)


@pytest.fixture(params=[7, 42])
def app(request: pytest.FixtureRequest) -> object:
    return create_app(
        SandboxConfig(seed=request.param, customers=1, months=1, transactions_per_account=120)
    )


@pytest.fixture
def bank(app) -> SandboxBank:
    return app.state.bank


@pytest.fixture
def transport(app) -> Recording:
    return Recording(app)


def login(bank: SandboxBank, password: str | None = None) -> DirectLogin:
    customer = bank.customers[0]
    return DirectLogin(customer.username, password or customer.password, bank.consumer_key)


@pytest.fixture
async def connector(bank, transport) -> AsyncIterator[ObpConnector]:
    client = ObpClient(BASE, login(bank), transport=transport)
    connector = ObpConnector(client, ObpMapper(), bank.bank_id)
    yield connector
    await connector.aclose()


@pytest.mark.parametrize("limit", [1, 7, 50])
async def test_pages_read_to_an_empty_page_are_the_banks_whole_list(connector, bank, limit):
    account = bank.accounts_of(bank.customers[0].username)[0]
    truth = [t.id for t in bank.iter_transactions(account.id)]
    served: list[str | None] = []
    offset = 0
    while True:
        page = await connector.transaction_page(
            account.id, since=None, until=None, offset=offset, limit=limit
        )
        if not page.raw_count:
            break
        assert page.offset == offset and len(page.positions) == page.raw_count <= limit
        served += page.positions
        offset += page.raw_count

    assert served == truth
    assert len(truth) > limit


async def test_a_window_is_asked_of_the_bank_with_both_ends(connector, bank, transport):
    account = bank.accounts_of(bank.customers[0].username)[0]
    history = list(bank.iter_transactions(account.id))
    since = history[len(history) // 3].posted
    until = since + timedelta(days=3)
    inside = [t.id for t in history if since <= t.posted <= until]

    page = await connector.transaction_page(
        account.id, since=since, until=until, offset=0, limit=len(history)
    )

    assert page.positions == inside
    assert all(
        isinstance(r, TransactionRecord) and r.booked_at is not None and since <= r.booked_at
        for r in page.records
    )


async def test_every_account_is_read_through_the_owner_view_the_user_has(
    connector, bank, transport
):
    page = await connector.accounts()

    ids = {a.id for a in bank.accounts_of(bank.customers[0].username)}
    assert {r.external_id for r in page.records} == ids
    assert page.issues == []
    details = [r for r in transport.requests if "/views/" in r.url.path]
    assert len(details) == len(ids)
    assert all(r.url.path.endswith("/views/owner") for r in details)


async def test_the_sandbox_answers_v5_1_0_and_is_asked_once(connector, bank, transport):
    await connector.accounts()
    await connector.cards()

    roots = [r.url.path for r in transport.requests if r.url.path.endswith("/root")]
    assert roots == ["/obp/v5.1.0/root"]


async def test_a_wrong_password_is_one_login_and_then_never_again(bank, transport):
    client = ObpClient(BASE, login(bank, "not-the-password"), transport=transport)
    connector = ObpConnector(client, ObpMapper(), bank.bank_id)
    try:
        for _ in range(3):
            with pytest.raises(ReauthRequired) as caught:
                await connector.accounts()
            assert caught.value.code == "OBP-20004"
    finally:
        await connector.aclose()

    logins = [r for r in transport.requests if r.url.path == "/my/logins/direct"]
    assert len(logins) == 1
