"""Live balances through BankAccess: one upstream call per connection, keyed by ledger id."""

from __future__ import annotations

import httpx
import pytest

from connectors.bank_access import BankAccess
from connectors.credentials import Credentials, CredentialsError, encrypt
from connectors.keys import Keyring
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from ledger.queries.results import AccountUpstreamRow

SECRET = "test-secret"
KEYS = Keyring(SECRET)


class Recording(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, remembering the path of every request."""

    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self._inner.handle_async_request(request)


async def test_balances_of_one_connection_come_back_by_ledger_account_id() -> None:
    app = create_app(SandboxConfig(seed=42, customers=1, months=1))
    bank = app.state.bank
    customer = bank.customers[0]
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    accounts = bank.accounts_of(customer.username)
    rows = [
        AccountUpstreamRow(
            account_id=100 + i,
            external_id=a.id,
            connection_id=1,
            provider="alif",
            base_url="http://sandbox.test",
            bank_id=bank.bank_id,
            credentials_encrypted=encrypt(creds, KEYS),
        )
        for i, a in enumerate(accounts)
    ]
    transport = Recording(app)

    found = await BankAccess(KEYS, transport).balances(rows)

    assert sorted(found) == [row.account_id for row in rows]
    assert all(found[row.account_id] for row in rows)
    assert all(
        r.account_external_id == row.external_id for row in rows for r in found[row.account_id]
    )
    assert sum(path.endswith("/balances") for path in transport.paths) == 1


async def test_credentials_under_another_key_are_refused() -> None:
    blob = encrypt(Credentials(consumer_key="ck", username="u", password="p"), Keyring("other"))
    row = AccountUpstreamRow(
        account_id=1,
        external_id="a",
        connection_id=1,
        provider="alif",
        base_url="http://x",
        bank_id="b",
        credentials_encrypted=blob,
    )

    with pytest.raises(CredentialsError):
        await BankAccess(KEYS).balances([row])
