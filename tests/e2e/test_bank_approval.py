"""The sandbox bank's own approval pages in a real browser: the customer logs in at the bank,
approves, types the SMS code and lands on the application's callback; the consent the
application then fetches opens the account it asked for."""

from __future__ import annotations

import logging
import socket
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from connectors.sandbox import SandboxBank, SandboxConfig
from connectors.sandbox.app import PREFIX, create_app
from graph.cli.dev.demo import serving


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_customer_approves_at_the_bank_and_the_app_reads_with_the_consent(
    browser: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # A registered loopback callback; on the bank's own port it is a 404, but the URL the
    # browser lands on is what the application reads.
    callback = f"{base}/callback"
    app = create_app(SandboxConfig(seed=42))
    bank: SandboxBank = app.state.bank
    customer = bank.customers[0]
    account = bank.accounts_of(customer.username)[0]
    app_key = {"Consumer-Key": bank.consumer_key}
    body = {
        "everything": False,
        "account_access": [
            {
                "account_routing": {"scheme": "AccountNumber", "address": account.number},
                "view_id": "owner",
            }
        ],
        "entitlements": [],
        "time_to_live": 3600,
    }
    requests = f"{PREFIX}/consumer/consent-requests"
    with caplog.at_level(logging.DEBUG):
        async with serving(app, "127.0.0.1", port), httpx.AsyncClient(base_url=base) as http:
            made = await http.post(requests, json=body, headers=app_key)
            request_id = made.json()["consent_request_id"]
            page = await (await browser.new_context()).new_page()
            query = urlencode(
                {"consent_request_id": request_id, "redirect_uri": callback, "state": "s-42"}
            )
            await page.goto(f"{base}/bank/consent?{query}")

            await page.fill("#username", customer.username)
            await page.fill("#password", "not-the-password")
            await page.click("#log-in")
            assert "Wrong username or password." in await page.inner_text("#error")
            await page.fill("#username", customer.username)
            await page.fill("#password", customer.password)
            await page.click("#log-in")
            assert account.label in await page.inner_text("#accounts")
            await page.click("#approve")
            await page.wait_for_selector("#code")
            pending = (await http.get(f"{requests}/{request_id}/consents", headers=app_key)).json()
            assert pending["status"] == "INITIATED" and pending["jwt"] is None
            sms = await http.get(f"/sandbox/admin/sca-codes/{pending['consent_id']}")
            await page.fill("#code", sms.json()["code"])
            async with page.expect_navigation(url=f"{callback}?**"):
                await page.click("#confirm")
            back = parse_qs(urlsplit(page.url).query)

            fetched = (await http.get(f"{requests}/{request_id}/consents", headers=app_key)).json()
            listed = await http.get(
                f"{PREFIX}/my/accounts", headers={"Consent-JWT": fetched["jwt"]} | app_key
            )

    assert back == {"consent_request_id": [request_id], "status": ["ACCEPTED"], "state": ["s-42"]}
    assert fetched["status"] == "ACCEPTED"
    assert [a["id"] for a in listed.json()["accounts"]] == [account.id]
    assert customer.password not in caplog.text
