"""The factory is the one place that picks a provider: connectors, consent brokers and
institution rows, with an unknown provider refused the same way everywhere."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from connectors.base import ConsentBroker
from connectors.credentials import Credentials
from connectors.errors import (
    ConsentNotAnswered,
    ReauthRequired,
    UpstreamBadRequest,
    UpstreamNotFound,
    UpstreamUnavailable,
)
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
from connectors.sandbox.errors import ObpError

SANDBOX = "http://sandbox.test"
BANK_PAGES = "https://bank.example"
OPERATOR = Credentials(consumer_key="ck", username="u", password="p")
DAY = 24 * 3600


@dataclass
class Sandbox:
    bank: SandboxBank
    transport: httpx.ASGITransport

    def broker(self, consumer_key: str | None = None, **options: object) -> ConsentBroker:
        return open_consent_broker(
            "alif",
            SANDBOX,
            self.bank.bank_id,
            consumer_key or self.bank.consumer_key,
            public_url=BANK_PAGES,
            transport=self.transport,
            **options,
        )

    def grant(self, consent_request_id: str, *, right_code: bool = True) -> None:
        """The customer approves at the bank and answers its SMS code (the pages themselves
        are driven over HTTP in tests/graph/auth/test_bank_link.py)."""
        customer = self.bank.customers[0]
        request = self.bank.consent_request(consent_request_id)
        consent = self.bank.consent_for_request(request, customer, "SMS")
        code = consent.sca_code if right_code else f"{(int(consent.sca_code) + 1) % 10**6:06d}"
        self.bank.answer_challenge(consent, code)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    app = create_app(
        SandboxConfig(seed=42, customers=1, months=1, consent_max_ttl_seconds=180 * DAY)
    )
    yield Sandbox(app.state.bank, httpx.ASGITransport(app=app))


@pytest.mark.parametrize(
    "pick",
    [
        lambda: open_connector("plaid", SANDBOX, "b", OPERATOR),
        lambda: open_consent_broker("plaid", SANDBOX, "b", "ck"),
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


async def test_a_granted_consent_request_becomes_credentials_a_connector_syncs_with(
    sandbox: Sandbox,
) -> None:
    customer = sandbox.bank.customers[0]
    async with aclosing(sandbox.broker()) as broker:
        request_id = await broker.request(phone=customer.phone, time_to_live=90 * DAY)
        sandbox.grant(request_id)
        consent = await broker.collect(request_id)

    assert consent is not None
    creds = consent.credentials
    granted = sandbox.bank.consent_of_request(sandbox.bank.consent_request(request_id))
    assert creds.consent_id == granted.consent_id and creds.consent_jwt == granted.jwt
    assert creds.consumer_key == sandbox.bank.consumer_key
    assert creds.username is None and creds.password is None
    # The bank's consent lasts what was asked, counted from its grant.
    assert consent.expires_at is not None
    lifetime = consent.expires_at - datetime.now(UTC)
    assert timedelta(days=90) - timedelta(minutes=1) < lifetime <= timedelta(days=90)
    connector = open_connector(
        "alif", SANDBOX, sandbox.bank.bank_id, creds, transport=sandbox.transport
    )
    try:
        page = await connector.accounts()
    finally:
        await connector.aclose()
    assert len(page.records) == len(sandbox.bank.accounts_of(customer.username))


async def test_the_request_is_addressed_to_the_customer_for_everything_with_the_lifetime(
    sandbox: Sandbox,
) -> None:
    async with aclosing(sandbox.broker()) as broker:
        request_id = await broker.request(phone="+992900000009", time_to_live=3600)

    access = sandbox.bank.consent_request(request_id).access
    assert access.everything and access.phone_number == "+992900000009"
    assert access.time_to_live == 3600 and access.bank_id == sandbox.bank.bank_id
    # Addressed to another phone: the bank's customer cannot grant it.
    with pytest.raises(ObpError, match="OBP-35023"):
        sandbox.grant(request_id)


@pytest.mark.parametrize("refused_how", ["refused at the bank", "wrong SMS code"])
async def test_a_refused_consent_request_yields_no_consent(
    sandbox: Sandbox, refused_how: str
) -> None:
    customer = sandbox.bank.customers[0]
    async with aclosing(sandbox.broker()) as broker:
        request_id = await broker.request(phone=customer.phone, time_to_live=3600)
        if refused_how == "wrong SMS code":
            sandbox.grant(request_id, right_code=False)
        else:
            request = sandbox.bank.consent_request(request_id)
            sandbox.bank.consent_for_request(request, customer, "SMS", refused=True)
        assert await broker.collect(request_id) is None


async def test_collecting_before_the_customer_answered_says_so(sandbox: Sandbox) -> None:
    customer = sandbox.bank.customers[0]
    async with aclosing(sandbox.broker()) as broker:
        request_id = await broker.request(phone=customer.phone, time_to_live=3600)
        with pytest.raises(ConsentNotAnswered):
            await broker.collect(request_id)  # not opened at the bank yet
        request = sandbox.bank.consent_request(request_id)
        sandbox.bank.consent_for_request(request, customer, "SMS")
        with pytest.raises(ConsentNotAnswered):
            await broker.collect(request_id)  # approved, the SMS code not typed yet


async def test_another_consumers_request_reads_as_missing(sandbox: Sandbox) -> None:
    body = {"everything": True, "account_access": [], "time_to_live": 60}
    theirs = sandbox.bank.create_consent_request("another-consumer", body)
    sandbox.grant(theirs.consent_request_id)

    async with aclosing(sandbox.broker()) as broker:
        with pytest.raises(UpstreamNotFound) as caught:
            await broker.collect(theirs.consent_request_id)

    assert caught.value.code == "OBP-35028"


async def test_an_unknown_consumer_key_is_refused(sandbox: Sandbox) -> None:
    async with aclosing(sandbox.broker("not-our-key")) as broker:
        with pytest.raises(ReauthRequired) as caught:
            await broker.request(phone="+992900000001", time_to_live=60)

    assert caught.value.code == "OBP-20008"
    assert "not-our-key" not in str(caught.value)


async def test_a_lifetime_beyond_the_banks_maximum_is_refused(sandbox: Sandbox) -> None:
    async with aclosing(sandbox.broker()) as broker:
        with pytest.raises(UpstreamBadRequest) as caught:
            await broker.request(phone="+992900000001", time_to_live=181 * DAY)

    assert caught.value.code == "OBP-35020"


async def test_a_bank_that_is_down_is_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    broker = open_consent_broker(
        "obp", SANDBOX, "alif.tj", "ck", transport=httpx.MockTransport(down), max_retries=0
    )
    async with aclosing(broker):
        with pytest.raises(UpstreamUnavailable):
            await broker.request(phone="+992900000001", time_to_live=60)


def test_the_approval_page_is_on_the_banks_public_address(sandbox: Sandbox) -> None:
    url = sandbox.broker().approval_url(
        "r-1", redirect_uri="https://api.example/auth/flow/bank/callback?x=1", state="s&t"
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BANK_PAGES}/bank/consent"
    assert parse_qs(parts.query) == {
        "consent_request_id": ["r-1"],
        "redirect_uri": ["https://api.example/auth/flow/bank/callback?x=1"],
        "state": ["s&t"],
    }
    default = open_consent_broker("obp", SANDBOX, "b", "ck").approval_url(
        "r-1", redirect_uri="http://x/cb", state="s"
    )
    assert default.startswith(f"{SANDBOX}/bank/consent?")


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
