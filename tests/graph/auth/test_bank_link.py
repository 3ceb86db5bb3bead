"""Linking an Alif account inside the consent flow through the bank's own approval of a
consent request: our pages and the sandbox bank's pages, both over HTTP, in one browser
(an httpx client with a cookie jar) as the customer would use them."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig
from graph.auth.consent.authorize import consent_end, today
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.cli.dev.walkthrough import (
    BankCustomer,
    answer_at_bank,
    link_bank,
    sandbox_sca_code,
    start_bank_link,
)
from graph.cli.sync import sync_connections
from graph.server.app import create_app
from graph.settings import Settings
from ledger.models import Account, AuditEvent, Connection, Consent

from ..helpers import KEYS
from .support import Clock, Flow, Registered, graphql

API = "http://api.test"
SANDBOX = "http://sandbox.test"
CALLBACK = f"{API}/auth/flow/bank/callback"
ACCOUNTS = "{ accounts(first: 50) { totalCount edges { node { currency } } } }"
DAY = 24 * 3600
LINKED = "Счёт Alif подключён."
NOT_LINKED = "Счёт Alif не подключён"
BANK_DOWN = "Банк сейчас недоступен"


class Switchable(httpx.AsyncBaseTransport):
    """The bank's transport, which a test can take down."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class Linked:
    http: httpx.AsyncClient
    bank: SandboxBank
    sender: DevelopmentSender
    bank_api: Switchable
    sessions: async_sessionmaker[AsyncSession]
    db_url: str
    clock: Clock

    @property
    def customer(self) -> Any:
        return self.bank.customers[0]

    def at_bank(self, password: str | None = None) -> BankCustomer:
        async def code(consent_request_id: str) -> str:
            return await sandbox_sca_code(
                self.http, SANDBOX, self.bank.consumer_key, consent_request_id
            )

        return BankCustomer(self.customer.username, password or self.customer.password, code)

    async def signed_in(self, registered: Registered) -> Flow:
        flow = Flow(self.http, registered, self.sender)
        await flow.signed_in(self.customer.phone)
        return flow

    async def count(self, model: type) -> int:
        async with self.sessions() as session:
            return int(
                (await session.execute(select(func.count()).select_from(model))).scalar_one()
            )

    async def bank_audits(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(AuditEvent.outcome)
                .where(AuditEvent.operation == "auth.bank.link")
                .order_by(AuditEvent.id)
            )
        return list(rows.scalars())


@pytest.fixture
async def linked(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
) -> AsyncIterator[Linked]:
    sandbox_app = create_sandbox(
        SandboxConfig(
            seed=42,
            customers=2,
            months=1,
            consent_max_ttl_seconds=180 * DAY,
            redirect_uris=(CALLBACK,),
        )
    )
    bank: SandboxBank = sandbox_app.state.bank
    configured = settings.model_copy(
        update={
            "bank_base_url": SANDBOX,
            "bank_id": bank.bank_id,
            "bank_consumer_key": SecretStr(bank.consumer_key),
        }
    )
    sandbox = httpx.ASGITransport(app=sandbox_app)
    bank_api = Switchable(sandbox)
    sender, clock = DevelopmentSender(reveal_codes=True), Clock()
    app = create_app(
        configured,
        engine=engine,
        auth=AuthConfig(sender=sender, clock=clock, bank_transport=bank_api),
    )
    # One browser for both sites: our pages and the bank's.
    mounts = {API: httpx.ASGITransport(app=app), SANDBOX: sandbox}
    async with httpx.AsyncClient(mounts=mounts, base_url=API) as http:
        yield Linked(http, bank, sender, bank_api, sessions, db_url, clock)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _approve(flow: Flow, expires: str) -> dict[str, str]:
    response = await flow.walker.post(
        "/auth/flow/decide",
        {"decision": "approve", "accounts": flow.walker.account_ids(), "expires": expires},
    )
    assert response.status_code == 303, flow.walker.page
    return _query(response.headers["location"])


async def test_a_customer_links_alif_at_the_banks_own_pages_and_shares_the_accounts(
    linked: Linked, registered: Registered, caplog: pytest.LogCaptureFixture
) -> None:
    customer = linked.customer
    flow = await linked.signed_in(registered)
    assert flow.walker.account_ids() == []  # nothing linked yet
    # The consent page's forms may lead to the app and to the bank's pages, nowhere else.
    assert flow.walker.last is not None
    csp = flow.walker.last.headers["content-security-policy"]
    assert f"form-action 'self' https://budget.example {SANDBOX};" in csp
    with caplog.at_level(logging.DEBUG):
        await link_bank(flow.walker, linked.at_bank())
        assert LINKED in flow.walker.page
        bank_accounts = linked.bank.accounts_of(customer.username)
        assert len(flow.walker.account_ids()) == len(bank_accounts)

        back = await flow.approve()
        tokens = (await flow.exchange(back["code"])).json()
        body = (await graphql(linked.http, tokens["access_token"], ACCOUNTS)).json()
    assert body["data"]["accounts"]["totalCount"] == len(bank_accounts)
    assert await linked.bank_audits() == ["ok"]

    # Only the bank's consent is kept: no username, no password.
    async with linked.sessions() as session:
        connection = (await session.execute(select(Connection))).scalar_one()
    stored = credentials.decrypt(connection.credentials_encrypted, KEYS)
    (granted,) = linked.bank.consents_of(customer.username)
    assert (stored.consent_id, stored.consent_jwt) == (granted.consent_id, granted.jwt)
    assert stored.consumer_key == linked.bank.consumer_key
    assert stored.username is None and stored.password is None
    assert customer.password.encode() not in connection.credentials_encrypted
    assert connection.upstream_consent_expires_at is not None
    for secret in (customer.password, granted.jwt):
        assert secret not in caplog.text

    # A later unattended sync runs on the consent alone.
    (report,) = await sync_connections(
        [int(connection.id or 0)],
        full=False,
        database_url=linked.db_url,
        keys=KEYS,
        transport=linked.bank_api,
    )
    assert report.status == "SUCCEEDED", report.error


async def test_the_bank_consent_lasts_until_the_day_chosen_and_ours_never_outlasts_it(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    now = linked.clock()
    chosen = today(now) + timedelta(days=30)
    location = await start_bank_link(flow.walker, chosen.isoformat())
    after = linked.clock()

    # Asked of the bank: every account, for this customer, until the end of that day (the
    # seconds left when the request was made, somewhere between `now` and `after`).
    request = linked.bank.consent_request(_query(location)["consent_request_id"])
    ttl = request.access.time_to_live
    assert ttl is not None
    end = consent_end(chosen, now)
    assert (end - after).total_seconds() <= ttl <= (end - now).total_seconds() + 1
    assert request.access.everything and request.access.phone_number == linked.customer.phone

    await answer_at_bank(flow.walker, linked.at_bank(), location)
    assert LINKED in flow.walker.page
    # The page now offers that day, and no day after the bank consent's end.
    assert flow.walker.default_expiry() == chosen.isoformat()
    assert f'max="{chosen.isoformat()}"' in flow.walker.page

    # A later day posted anyway (not from the page) is cut to the bank consent's end.
    await _approve(flow, (chosen + timedelta(days=60)).isoformat())
    async with linked.sessions() as session:
        ours = (await session.execute(select(Consent.expires_at))).scalar_one()
        bank_end = (
            await session.execute(select(Connection.upstream_consent_expires_at))
        ).scalar_one()
    assert bank_end is not None and ours == bank_end
    assert bank_end >= consent_end(chosen, now) - timedelta(seconds=1)


@pytest.mark.parametrize("late", [1, 5, 90])
async def test_a_bank_grant_later_than_our_request_offers_no_barely_begun_day(
    linked: Linked, registered: Registered, late: int
) -> None:
    """The bank counts the lifetime from its grant, `late` seconds after the moment our
    request was timed: its consent ends just past the chosen day, which stays the last."""
    flow = await linked.signed_in(registered)
    chosen = today(linked.clock()) + timedelta(days=10)
    linked.clock.advance(seconds=-late)  # our request is timed `late` seconds early
    location = await start_bank_link(flow.walker, chosen.isoformat())
    await answer_at_bank(flow.walker, linked.at_bank(), location)

    assert LINKED in flow.walker.page
    assert flow.walker.default_expiry() == chosen.isoformat()
    assert f'max="{chosen.isoformat()}"' in flow.walker.page


@pytest.mark.parametrize("how", ["refused at the bank", "wrong code at the bank"])
async def test_a_refusal_at_the_bank_links_nothing_and_says_so(
    linked: Linked, registered: Registered, how: str
) -> None:
    flow = await linked.signed_in(registered)
    location = await start_bank_link(flow.walker)
    if how == "refused at the bank":
        await answer_at_bank(flow.walker, linked.at_bank(), location, approve=False)
    else:
        page = await answer_at_bank(flow.walker, linked.at_bank(), location, code="000000x")
        assert page.status_code == 400 and "Wrong code" in page.text
        back = re.search(r'id="back" href="([^"]+)"', page.text)
        assert back is not None
        await flow.walker.get(html.unescape(back.group(1)))

    assert NOT_LINKED in flow.walker.page
    assert flow.walker.account_ids() == []
    assert await linked.count(Connection) == 0 and await linked.count(Account) == 0
    assert await linked.bank_audits() == ["denied"]


async def test_a_callback_with_the_wrong_state_is_refused_and_spends_the_request(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    location = await start_bank_link(flow.walker)
    granted = await answer_at_bank(flow.walker, linked.at_bank(), location, follow=False)
    callback = granted.headers["location"]
    assert _query(callback)["status"] == "ACCEPTED"

    forged = _query(callback) | {"state": "not-the-flows-state"}
    await flow.walker.get(f"{CALLBACK}?{urlencode(forged)}")
    assert NOT_LINKED in flow.walker.page
    # The right state afterwards is too late: the flow awaited one answer.
    await flow.walker.get(callback)
    assert NOT_LINKED in flow.walker.page
    assert await linked.count(Connection) == 0
    assert await linked.bank_audits() == ["denied", "denied"]


async def test_a_replayed_callback_links_nothing_more(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    location = await start_bank_link(flow.walker)
    granted = await answer_at_bank(flow.walker, linked.at_bank(), location, follow=False)
    await flow.walker.get(granted.headers["location"])
    assert LINKED in flow.walker.page

    await flow.walker.get(granted.headers["location"])
    assert NOT_LINKED in flow.walker.page
    assert await linked.count(Connection) == 1
    assert await linked.bank_audits() == ["ok", "denied"]
    # The flow goes on: the accounts linked the first time are still offered.
    assert flow.walker.account_ids()


async def test_a_callback_claiming_acceptance_the_bank_did_not_give_links_nothing(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    asked = _query(await start_bank_link(flow.walker))  # never answered at the bank
    claimed = {k: asked[k] for k in ("consent_request_id", "state")} | {"status": "ACCEPTED"}

    await flow.walker.get(f"{CALLBACK}?{urlencode(claimed)}")

    assert NOT_LINKED in flow.walker.page
    assert await linked.count(Connection) == 0
    assert await linked.bank_audits() == ["denied"]


async def test_another_consumers_request_is_not_collected(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    state = _query(await start_bank_link(flow.walker))["state"]
    body = {"everything": True, "account_access": [], "time_to_live": 3600}
    theirs = linked.bank.create_consent_request("another-consumer", body)
    customer = linked.customer
    consent = linked.bank.consent_for_request(theirs, customer, "SMS")
    linked.bank.answer_challenge(consent, consent.sca_code)

    query = {"consent_request_id": theirs.consent_request_id, "status": "ACCEPTED", "state": state}
    await flow.walker.get(f"{CALLBACK}?{urlencode(query)}")

    assert NOT_LINKED in flow.walker.page
    assert await linked.count(Connection) == 0
    assert await linked.bank_audits() == ["denied"]


async def test_a_bank_that_is_down_gets_a_message_never_a_500(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    linked.bank_api.down = True
    asked = await flow.walker.post("/auth/flow/bank", {"expires": flow.walker.default_expiry()})
    assert asked.status_code == 200 and BANK_DOWN in flow.walker.page

    linked.bank_api.down = False
    location = await start_bank_link(flow.walker)
    granted = await answer_at_bank(flow.walker, linked.at_bank(), location, follow=False)
    linked.bank_api.down = True  # between the bank's redirect and our collecting
    await flow.walker.get(granted.headers["location"])

    assert flow.walker.last is not None and flow.walker.last.status_code == 200
    assert BANK_DOWN in flow.walker.page
    assert await linked.count(Connection) == 0
    assert await linked.bank_audits() == ["error"]


async def test_an_expiry_outside_the_allowed_days_is_not_asked_of_the_bank(
    linked: Linked, registered: Registered
) -> None:
    flow = await linked.signed_in(registered)
    too_late = (today(linked.clock()) + timedelta(days=181)).isoformat()

    await flow.walker.post("/auth/flow/bank", {"expires": too_late})

    assert "180" in flow.walker.page and linked.bank.consumer_key not in flow.walker.page
    assert linked.bank.consents_of(linked.customer.username) == []


async def test_relinking_replaces_the_connection_instead_of_adding_one(
    linked: Linked, registered: Registered
) -> None:
    for _ in range(2):
        linked.http.cookies.clear()
        flow = await linked.signed_in(registered)
        await link_bank(flow.walker, linked.at_bank())
        assert LINKED in flow.walker.page
    assert await linked.count(Connection) == 1


async def test_without_a_bank_configured_linking_is_not_offered(
    harness: Any, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    assert "/auth/flow/bank" not in flow.walker.page

    await flow.walker.post("/auth/flow/bank", {"expires": flow.walker.default_expiry()})
    assert flow.walker.last is not None and flow.walker.last.status_code == 400
    callback = await harness.http.get("/auth/flow/bank/callback?status=ACCEPTED")
    assert callback.status_code == 303


async def test_the_bank_and_the_callback_are_addressed_as_browsers_reach_them(
    settings: Settings, engine: AsyncEngine, registered: Registered
) -> None:
    configured = settings.model_copy(
        update={
            "bank_base_url": SANDBOX,
            "bank_consumer_key": SecretStr("k"),
            "bank_public_url": "https://bank.example",
            "public_url": "https://alif-graph.example",
        }
    )
    sent: list[httpx.Request] = []

    def bank(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/root"):
            return httpx.Response(200, json={"version": "v5.1.0"})
        return httpx.Response(201, json={"consent_request_id": "r-1", "payload": {}})

    sender = DevelopmentSender(reveal_codes=True)
    app = create_app(
        configured,
        engine=engine,
        auth=AuthConfig(sender=sender, bank_transport=httpx.MockTransport(bank)),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API) as http:
        flow = Flow(http, registered, sender)
        await flow.signed_in()
        location = await start_bank_link(flow.walker)

    assert location.startswith("https://bank.example/bank/consent?")
    assert _query(location)["redirect_uri"] == (
        "https://alif-graph.example/auth/flow/bank/callback"
    )
    assert all(str(r.url).startswith(SANDBOX) for r in sent)  # the API, not the pages
    assert sent[-1].headers["Consumer-Key"] == "k"


@pytest.mark.parametrize("field", ["bank_base_url", "bank_public_url", "public_url"])
@pytest.mark.parametrize("value", ["ftp://bank.example", "bank.example", "https://x/?a=1"])
def test_addresses_in_the_settings_must_be_http_base_urls(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        Settings(**{field: value})
