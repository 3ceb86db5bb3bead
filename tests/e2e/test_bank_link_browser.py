"""Linking the bank inside our consent flow in a real browser: the customer presses "link",
logs in at the sandbox bank's own pages, approves, types the bank's SMS code, lands back on
our consent page with the accounts listed, approves; the app's token reads them and the
connection syncs with the bank's consent. No row and no log line holds the bank password."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.sandbox import SandboxBank, SandboxConfig
from connectors.sandbox.app import create_app as create_sandbox
from graph.auth.consent.authorize import consent_end
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients, pkce
from graph.auth.runtime import AuthConfig
from graph.cli.dev.demo import serving
from graph.cli.dev.walkthrough import sandbox_sca_code
from graph.cli.sync import sync_connections
from graph.server.app import create_app
from graph.settings import Settings
from ledger.models import Connection

from ..graph.auth.support import Clock
from ..graph.helpers import columns_holding, stored_credentials
from .conftest import KEYS, SECRET, _free_port

PIN = "582039"
ACCOUNTS = "{ accounts(first: 50) { totalCount } }"


@dataclass
class Both:
    api_url: str
    bank_url: str
    bank: SandboxBank
    sender: DevelopmentSender
    client_id: str
    client_secret: str
    redirect_uri: str
    sessions: async_sessionmaker[AsyncSession]
    db_url: str


@pytest.fixture
async def both(
    db_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Both]:
    bank_port, api_port = _free_port(), _free_port()
    bank_url, api_url = f"http://127.0.0.1:{bank_port}", f"http://127.0.0.1:{api_port}"
    # The default redirect URIs accept our callback on any loopback port.
    sandbox = create_sandbox(
        SandboxConfig(seed=42, customers=1, months=1, consent_max_ttl_seconds=180 * 86400)
    )
    bank: SandboxBank = sandbox.state.bank
    redirect_uri = f"{api_url}/app/callback"
    async with sessions.begin() as session:
        new = await clients.create(session, name="Budget App", redirect_uris=[redirect_uri])
    settings = Settings(
        database_url=db_url,
        secret_key=SECRET,
        bank_base_url=bank_url,
        bank_id=bank.bank_id,
        bank_consumer_key=SecretStr(bank.consumer_key),
    )
    sender = DevelopmentSender(reveal_codes=True)
    app = create_app(settings, engine=engine, auth=AuthConfig(sender=sender, clock=Clock()))
    async with serving(sandbox, "127.0.0.1", bank_port), serving(app, "127.0.0.1", api_port):
        yield Both(
            api_url,
            bank_url,
            bank,
            sender,
            new.client.client_id,
            new.secret,
            redirect_uri,
            sessions,
            db_url,
        )


async def test_a_customer_links_at_the_banks_pages_inside_our_consent_flow(
    browser: Any, both: Both, caplog: pytest.LogCaptureFixture
) -> None:
    customer = both.bank.customers[0]
    verifier, state = pkce.new_verifier(), "st-" + pkce.new_verifier()[:12]
    query = urlencode(
        {
            "response_type": "code",
            "client_id": both.client_id,
            "redirect_uri": both.redirect_uri,
            "scope": "accounts:read transactions:read",
            "state": state,
            "code_challenge": pkce.challenge_of(verifier),
            "code_challenge_method": "S256",
        }
    )
    page = await (await browser.new_context(locale="en-US")).new_page()
    with caplog.at_level(logging.DEBUG):
        await page.goto(f"{both.api_url}/auth/authorize?{query}")
        await page.fill("#phone", customer.phone)
        await page.click("button.primary")
        await page.wait_for_selector("#code")
        await page.fill("#code", both.sender.last_code(customer.phone) or "")
        await page.fill("#pin", PIN)
        await page.click("button.primary")
        await page.wait_for_selector("form[action='/auth/flow/pin']")
        await page.fill("#pin", PIN)
        await page.click("button.primary")
        await page.wait_for_selector("#bank-link")
        assert await page.locator("input[name=accounts]").count() == 0
        chosen = date.fromisoformat(await page.input_value("#expires")) - timedelta(days=30)
        await page.fill("#expires", chosen.isoformat())

        # At the bank, on the bank's own address.
        async with page.expect_navigation(url=f"{both.bank_url}/bank/consent?**"):
            await page.click("#bank-link")
        request_id = parse_qs(urlsplit(page.url).query)["consent_request_id"][0]
        await page.fill("#username", customer.username)
        await page.fill("#password", customer.password)
        await page.click("#log-in")
        await page.click("#approve")
        await page.wait_for_selector("#code")
        async with httpx.AsyncClient() as http:
            sms = await sandbox_sca_code(http, both.bank_url, both.bank.consumer_key, request_id)
        await page.fill("#code", sms)
        async with page.expect_navigation(url=f"{both.api_url}/auth/flow"):
            await page.click("#confirm")

        # Back on our consent page, the bank's accounts to choose from.
        assert "Your Alif account is linked." in await page.inner_text("main")
        accounts = both.bank.accounts_of(customer.username)
        assert await page.locator("input[name=accounts]").count() == len(accounts)
        assert await page.input_value("#expires") == chosen.isoformat()
        async with page.expect_navigation(url=f"{both.redirect_uri}?**"):
            await page.click("button[value=approve]")
        back = parse_qs(urlsplit(page.url).query)
        assert back["state"] == [state]

        async with httpx.AsyncClient(base_url=both.api_url) as http:
            token = await http.post(
                "/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": back["code"][0],
                    "redirect_uri": both.redirect_uri,
                    "code_verifier": verifier,
                },
                auth=(both.client_id, both.client_secret),
            )
            answer = await http.post(
                "/graphql",
                json={"query": ACCOUNTS},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
        assert answer.json()["data"]["accounts"]["totalCount"] == len(accounts)

        # The connection syncs, unattended, with the bank's consent over real HTTP.
        async with both.sessions() as session:
            connection_id = (await session.execute(select(Connection.id))).scalar_one()
        (report,) = await sync_connections(
            [int(connection_id or 0)], full=False, database_url=both.db_url, keys=KEYS
        )
        assert report.status == "SUCCEEDED", report.error

    (granted,) = both.bank.consents_of(customer.username)
    assert granted.status == "ACCEPTED"
    # The bank's consent ends with the day the customer chose on our page (its SCA came
    # a few seconds after our request).
    end = consent_end(chosen, datetime.now(UTC))
    assert end <= granted.expires_at <= end + timedelta(minutes=5)
    assert granted.jwt is not None
    assert await columns_holding(both.sessions, customer.password) == []
    assert await columns_holding(both.sessions, granted.jwt) == []  # only encrypted
    (stored,) = await stored_credentials(both.sessions, KEYS)
    assert (stored.consent_id, stored.consent_jwt) == (granted.consent_id, granted.jwt)
    assert stored.username is None and stored.password is None
    assert customer.password not in caplog.text and granted.jwt not in caplog.text
