"""The factory is the one place that picks a provider: connectors, consent brokers and
institution rows, with an unknown provider refused the same way everywhere."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from connectors.credentials import Credentials
from connectors.factory import (
    DEFAULT_BANK_ID,
    PROVIDERS,
    institution_of,
    open_connector,
    open_consent_broker,
)
from connectors.obp.consent_broker import consent_expiry
from connectors.sandbox.app import create_app
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig

SANDBOX = "http://sandbox.test"
OPERATOR = Credentials(consumer_key="ck", username="u", password="p")


@dataclass
class Sandbox:
    bank: SandboxBank
    transport: httpx.ASGITransport
    admin: httpx.AsyncClient

    @property
    def operator(self) -> Credentials:
        customer = self.bank.customers[0]
        return Credentials(
            consumer_key=self.bank.consumer_key,
            username=customer.username,
            password=customer.password,
        )

    async def sca_code(self, consent_id: str) -> str:
        answer = await self.admin.get(f"/sandbox/admin/sca-codes/{consent_id}")
        code: str = answer.json()["code"]
        return code


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    app = create_app(SandboxConfig(seed=42, customers=1, months=1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX) as admin:
        yield Sandbox(app.state.bank, transport, admin)


@pytest.mark.parametrize(
    "pick",
    [
        lambda: open_connector("plaid", SANDBOX, "b", OPERATOR),
        lambda: open_consent_broker("plaid", SANDBOX, "b", OPERATOR),
        lambda: institution_of("plaid", "b"),
    ],
    ids=["connector", "consent broker", "institution"],
)
def test_an_unknown_provider_is_refused_by_name(pick) -> None:
    with pytest.raises(ValueError) as caught:
        pick()

    assert str(caught.value) == "unknown provider 'plaid'; expected one of ('alif', 'obp')"


def test_institutions_are_alifs_own_or_one_per_obp_bank() -> None:
    assert PROVIDERS == ("alif", "obp")
    assert DEFAULT_BANK_ID == "alif.tj"
    assert institution_of("alif", "alif.tj") == ("alif", "Alif Bank", "TJ", "ALIFTJ22")
    assert institution_of("obp", "bank.x") == ("obp:bank.x", "bank.x", "TJ", None)


async def test_credentials_without_a_consent_or_a_login_are_refused() -> None:
    with pytest.raises(ValueError, match="neither a consent nor a username and password"):
        open_connector("obp", SANDBOX, "b", Credentials(consumer_key="ck"))


async def test_a_consent_answered_right_becomes_credentials_a_connector_syncs_with(
    sandbox: Sandbox,
) -> None:
    bank_id = sandbox.bank.bank_id
    broker = open_consent_broker(
        "alif", SANDBOX, bank_id, sandbox.operator, transport=sandbox.transport
    )
    try:
        consent_id = await broker.start(sandbox.bank.customers[0].phone)
        consent = await broker.finish(consent_id, await sandbox.sca_code(consent_id))
    finally:
        await broker.aclose()

    assert consent is not None
    creds = consent.credentials
    assert creds.consent_id == consent_id and creds.consent_jwt
    assert creds.consumer_key == sandbox.bank.consumer_key
    assert creds.username is None and creds.password is None
    assert consent.expires_at is not None and consent.expires_at > datetime.now(UTC)
    connector = open_connector("alif", SANDBOX, bank_id, creds, transport=sandbox.transport)
    try:
        page = await connector.accounts()
    finally:
        await connector.aclose()
    assert len(page.records) == len(sandbox.bank.accounts_of(sandbox.operator.username or ""))


async def test_a_wrong_answer_yields_no_consent(sandbox: Sandbox) -> None:
    broker = open_consent_broker(
        "obp", SANDBOX, sandbox.bank.bank_id, sandbox.operator, transport=sandbox.transport
    )
    try:
        consent_id = await broker.start(sandbox.bank.customers[0].phone)
        right = await sandbox.sca_code(consent_id)
        consent = await broker.finish(consent_id, f"{(int(right) + 1) % 10**6:06d}")
    finally:
        await broker.aclose()

    assert consent is None


def _jwt(claims: object) -> str:
    payload = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{payload}.sig"


def test_the_consent_expiry_is_read_from_the_jwt_and_none_when_unreadable() -> None:
    assert consent_expiry(_jwt({"exp": 1_900_000_000})) == datetime.fromtimestamp(
        1_900_000_000, UTC
    )
    assert consent_expiry(_jwt({"sub": "x"})) is None
    assert consent_expiry(_jwt(["exp"])) is None
    assert consent_expiry("not-a-jwt") is None
    assert consent_expiry("a.%%%.c") is None
