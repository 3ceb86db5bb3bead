"""The consent pages in a real browser: approve, reject, wrong code, lockout; then the
token against GraphQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from graph.auth.oauth import pkce

from .conftest import PHONE, LiveApi


class Customer:
    """A customer's browser tab on the consent pages, and the app that sent them."""

    def __init__(self, page: Any, api: LiveApi) -> None:
        self.page = page
        self.api = api
        self.verifier = pkce.new_verifier()
        self.state = "st-" + pkce.new_verifier()[:12]

    async def open(self) -> None:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.api.client_id,
                "redirect_uri": self.api.redirect_uri,
                "scope": "accounts:read transactions:read",
                "state": self.state,
                "code_challenge": pkce.challenge_of(self.verifier),
                "code_challenge_method": "S256",
            }
        )
        await self.page.goto(f"{self.api.base_url}/auth/authorize?{query}")

    async def enter_phone(self) -> None:
        await self.page.fill("#phone", PHONE)
        await self.page.click("button.primary")
        await self.page.wait_for_selector("#code")

    async def enter_code(self, code: str | None) -> None:
        await self.page.fill("#code", code or "")
        await self.page.click("button.primary")
        await self.page.wait_for_load_state()

    def sms(self) -> str:
        code = self.api.sender.last_code(PHONE)
        assert code is not None
        return code

    async def back_in_app(self, button: str) -> dict[str, list[str]]:
        async with self.page.expect_navigation(url=f"{self.api.redirect_uri}?**"):
            await self.page.click(f"button[value={button}]")
        return parse_qs(urlsplit(self.page.url).query)

    async def exchange(self, code: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.api.base_url) as http:
            response = await http.post(
                "/auth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.api.redirect_uri,
                    "code_verifier": self.verifier,
                },
                auth=(self.api.client_id, self.api.client_secret),
            )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def _tab(browser: Any, api: LiveApi, locale: str = "en-US") -> Customer:
    context = await browser.new_context(locale=locale)
    return Customer(await context.new_page(), api)


async def test_approve_then_read_graphql_with_the_token(browser: Any, live_api: LiveApi) -> None:
    customer = await _tab(browser, live_api)
    await customer.open()
    assert "“Budget App” asks for access to your data." in await customer.page.inner_text("main")
    await customer.enter_phone()
    await customer.enter_code(customer.sms())
    text = await customer.page.inner_text("main")
    assert "Allow access?" in text and "see your transactions" in text
    assert await customer.page.locator("input[name=accounts]").count() == 2
    await customer.page.uncheck("input[name=accounts] >> nth=1")
    back = await customer.back_in_app("approve")
    assert back["state"] == [customer.state]
    tokens = await customer.exchange(back["code"][0])
    async with httpx.AsyncClient(base_url=live_api.base_url) as http:
        answer = await http.post(
            "/graphql",
            json={"query": "{ viewer { consent { status scopes accountIds } } }"},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    consent = answer.json()["data"]["viewer"]["consent"]
    assert consent["status"] == "AUTHORISED"
    assert len(consent["accountIds"]) == 1


async def test_reject_sends_access_denied_back(browser: Any, live_api: LiveApi) -> None:
    customer = await _tab(browser, live_api, locale="ru-RU")
    await customer.open()
    assert "Вход по номеру телефона" in await customer.page.inner_text("main")
    await customer.enter_phone()
    await customer.enter_code(customer.sms())
    back = await customer.back_in_app("reject")
    assert back == {
        "error": ["access_denied"],
        "state": [customer.state],
        "iss": [live_api.base_url],
    }


async def test_a_wrong_code_then_the_right_one(browser: Any, live_api: LiveApi) -> None:
    customer = await _tab(browser, live_api, locale="tg-TJ")
    await customer.open()
    await customer.enter_phone()
    await customer.enter_code(_wrong(customer.sms()))
    assert "Рамз дуруст нест" in await customer.page.inner_text(".error")
    await customer.enter_code(customer.sms())
    assert "Иҷозат медиҳед?" in await customer.page.inner_text("main")


async def test_five_wrong_codes_lock_until_a_new_code(browser: Any, live_api: LiveApi) -> None:
    customer = await _tab(browser, live_api)
    await customer.open()
    await customer.enter_phone()
    first = customer.sms()
    for _ in range(5):
        await customer.enter_code(_wrong(first))
    await customer.enter_code(first)
    assert "The code is not valid" in await customer.page.inner_text(".error")
    live_api.clock.offset += timedelta(seconds=31)  # past the cool-down
    await customer.page.click("button[name=resend]")
    await customer.page.wait_for_selector(".notice")
    await customer.enter_code(customer.sms())
    assert "Allow access?" in await customer.page.inner_text("main")
