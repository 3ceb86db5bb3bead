"""GraphiQL in a real browser with no internet: every request to anything but this machine
is blocked, and the page still renders; opened with `#token=...` (the demo's link) it is
signed in, so Docs shows the schema at once, and the token never reaches the server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from connectors.keys import Keyring
from graph.auth.scopes import ALL_SCOPES
from graph.cli.dev.tokens import issue_development_token
from ledger.types import utcnow

from .conftest import PHONE, SECRET, LiveApi

LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


class Offline:
    """A browser page that can reach only this machine; it remembers what it was refused
    and every URL it asked for."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.blocked: list[str] = []
        self.requested: list[str] = []

    @classmethod
    async def open(cls, browser: Any) -> Offline:
        context = await browser.new_context()
        offline = cls(await context.new_page())
        await context.route("**/*", offline._route)
        return offline

    async def _route(self, route: Any) -> None:
        url = route.request.url
        self.requested.append(url)
        if urlsplit(url).scheme in {"data", "blob"} or urlsplit(url).hostname in LOOPBACK:
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort("internetdisconnected")


async def _token(api: LiveApi) -> str:
    async with api.sessions.begin() as session:
        issued = await issue_development_token(
            session,
            phone=PHONE,
            scopes=frozenset(ALL_SCOPES),
            account_ids=[],
            keys=Keyring(SECRET),
            now=utcnow(),
            ttl=timedelta(minutes=10),
        )
    return issued.token


async def _show_docs(page: Any) -> Any:
    await page.click("button[aria-label='Show Documentation Explorer']")
    return page.locator(".graphiql-doc-explorer")


async def test_graphiql_renders_with_no_internet(browser: Any, live_api: LiveApi) -> None:
    offline = await Offline.open(browser)

    await offline.page.goto(f"{live_api.base_url}/graphql")
    await offline.page.wait_for_selector(".graphiql-container .graphiql-editors")

    assert "Loading..." not in await offline.page.inner_text("body")
    assert offline.blocked == []  # it did not even try the internet
    # Unsigned, the schema cannot load: the page says so rather than hanging.
    docs = await _show_docs(offline.page)
    await docs.get_by_text("Error fetching schema").wait_for()


async def test_graphiql_opened_with_a_token_is_signed_in(browser: Any, live_api: LiveApi) -> None:
    token = await _token(live_api)
    offline = await Offline.open(browser)

    await offline.page.goto(f"{live_api.base_url}/graphql#token={token}")
    docs = await _show_docs(offline.page)
    await docs.get_by_text("Root Types").wait_for()

    assert await docs.locator("a.graphiql-doc-explorer-type-name", has_text="Query").count()
    assert offline.blocked == []
    assert token not in offline.page.url  # taken out of the address bar
    assert not any(token in url for url in offline.requested)  # and never sent in a URL
    headers = await offline.page.inner_text(".graphiql-editor-tool")
    assert "Bearer" in headers
