"""Walking the consent pages over HTTP without a browser: for the demo and the tests.

It does what a customer's browser does (cookies, the CSRF field, following the pages) and
what the app does (PKCE, the token request). Codes come from `code_for(phone)`, e.g. the
development sender's memory.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from graph.auth.oauth import pkce

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ACCOUNT = re.compile(r'name="accounts" value="([0-9]+)"')
_EXPIRES = re.compile(r'name="expires" type="date" value="([0-9-]+)"')

FormData = Mapping[str, str | Sequence[str]]


class PageWalker:
    """A cookie-keeping client on the consent pages; `page` is the last page's HTML."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.page = ""
        self.last: httpx.Response | None = None

    async def _settle(self, response: httpx.Response) -> httpx.Response:
        # Follow our own 303s to the next page; stop at a redirect to the app.
        while response.status_code in (302, 303) and response.headers["location"].startswith(
            "/auth/"
        ):
            response = await self.http.get(response.headers["location"])
        if response.headers.get("content-type", "").startswith("text/html"):
            self.page = response.text
        self.last = response
        return response

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        return await self._settle(await self.http.get(path, params=params))

    async def post(self, path: str, data: FormData | None = None) -> httpx.Response:
        """A form post with the page's CSRF token."""
        form: dict[str, Any] = {"csrf": self.csrf(), **(data or {})}
        return await self._settle(await self.http.post(path, data=form))

    def csrf(self) -> str:
        found = _CSRF.search(self.page)
        return found.group(1) if found else ""

    def account_ids(self) -> list[str]:
        return _ACCOUNT.findall(self.page)

    def default_expiry(self) -> str:
        found = _EXPIRES.search(self.page)
        return found.group(1) if found else ""


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query of a redirect back to the app (`code`, `state` or `error`)."""
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


async def obtain_token(
    http: httpx.AsyncClient,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    phone: str,
    pin: str,
    scopes: Sequence[str],
    code_for: Callable[[str], str | None],
) -> dict[str, Any]:
    """Authorise every account of the customer for `scopes` with the code and `pin` (chosen
    and repeated if the customer has none yet); the token endpoint's answer."""
    verifier, state = pkce.new_verifier(), secrets.token_urlsafe(16)
    walker = PageWalker(http)
    await walker.get(
        "/auth/authorize",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": pkce.challenge_of(verifier),
            "code_challenge_method": pkce.METHOD,
        },
    )
    await walker.post("/auth/flow/phone", {"phone": phone})
    await walker.post("/auth/flow/code", {"code": code_for(phone) or "", "pin": pin})
    if 'action="/auth/flow/pin"' in walker.page:  # a first PIN: repeat it
        await walker.post("/auth/flow/pin", {"pin": pin})
    decided = await walker.post(
        "/auth/flow/decide",
        {
            "decision": "approve",
            "accounts": walker.account_ids(),
            "expires": walker.default_expiry(),
        },
    )
    back = redirect_params(decided)
    if back.get("state") != state or "code" not in back:
        raise RuntimeError(f"authorization did not succeed: {back.get('error', 'no code')}")
    token = await http.post(
        "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": back["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, client_secret),
    )
    token.raise_for_status()
    body: dict[str, Any] = token.json()
    return body
