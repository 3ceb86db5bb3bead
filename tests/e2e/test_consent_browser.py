"""The consent pages in a real browser: the code and the PIN (chosen and repeated the first
time), approve, reject, a wrong code or PIN, the phone's lockout; then the token against
GraphQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from graph.auth.oauth import pkce

from .conftest import PHONE, LiveApi

PIN = "582039"


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

    async def enter_code(self, code: str | None, pin: str = PIN) -> None:
        """The code from the text and the PIN, on one form."""
        await self.page.fill("#code", code or "")
        await self.page.fill("#pin", pin)
        await self.page.click("button.primary")
        await self.page.wait_for_load_state()

    async def repeat_pin(self, pin: str = PIN) -> None:
        """The first approval: the PIN just chosen, once more."""
        await self.page.wait_for_selector("form[action='/auth/flow/pin']")
        await self.page.fill("#pin", pin)
        await self.page.click("button.primary")
        await self.page.wait_for_load_state()

    async def sign_in(self) -> None:
        await self.open()
        await self.enter_phone()
        await self.enter_code(self.sms())
        if await self.page.locator("form[action='/auth/flow/pin']").count():
            await self.repeat_pin()

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
    assert "Repeat your PIN" in await customer.page.inner_text("main")
    await customer.repeat_pin()
    text = await customer.page.inner_text("main")
    assert "Your PIN is set." in text
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
    await customer.repeat_pin()
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
    assert "Рамз ё PIN-рамз дуруст нест" in await customer.page.inner_text(".error")
    await customer.enter_code(customer.sms())
    assert "PIN-рамзро такрор кунед" in await customer.page.inner_text("main")
    await customer.repeat_pin()
    assert "Иҷозат медиҳед?" in await customer.page.inner_text("main")


async def test_a_returning_customer_needs_the_pin_with_the_code(
    browser: Any, live_api: LiveApi
) -> None:
    first = await _tab(browser, live_api)
    await first.sign_in()
    await first.back_in_app("approve")
    live_api.clock.offset += timedelta(seconds=31)
    customer = await _tab(browser, live_api)
    await customer.open()
    await customer.enter_phone()
    await customer.enter_code(customer.sms(), pin="975310")  # the right code, a wrong PIN
    assert "The code or the PIN is not valid" in await customer.page.inner_text(".error")
    await customer.enter_code(customer.sms())
    assert "Allow access?" in await customer.page.inner_text("main")  # no PIN to repeat
    back = await customer.back_in_app("approve")
    assert back["state"] == [customer.state]


async def test_five_failures_lock_the_phone_and_no_new_code_is_sent(
    browser: Any, live_api: LiveApi
) -> None:
    customer = await _tab(browser, live_api)
    await customer.open()
    await customer.enter_phone()
    first = customer.sms()
    for _ in range(5):
        await customer.enter_code(_wrong(first))
    assert "this number is locked until" in await customer.page.inner_text(".error")
    assert len(live_api.sender.lockout_alerts(PHONE)) == 1
    live_api.clock.offset += timedelta(seconds=31)  # past the cool-down
    async with customer.page.expect_navigation():
        await customer.page.click("button[name=resend]")
    # A locked phone is sent no new code: the page says until when instead.
    assert "this number is locked until" in await customer.page.inner_text(".error")
    assert customer.sms() == first
    await customer.enter_code(first)
    assert "this number is locked until" in await customer.page.inner_text(".error")
    assert len(live_api.sender.lockout_alerts(PHONE)) == 1
    live_api.clock.offset += timedelta(hours=1)  # the lock is over
    await customer.page.click("button[name=resend]")
    await customer.page.wait_for_selector(".notice")
    await customer.enter_code(customer.sms())
    await customer.repeat_pin()
    assert "Allow access?" in await customer.page.inner_text("main")
