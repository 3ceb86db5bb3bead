"""Walking the consent pages over HTTP without a browser: for the demo and the tests.

It does what a customer's browser does (cookies, the CSRF field, following the pages) and
what the app does (PKCE, the token request). Codes come from `code_for(phone)`, e.g. the
development sender's memory. Linking the bank goes through the sandbox bank's own approval
pages, as the customer's browser would (`BankCustomer`); the bank's SMS code is read from
the sandbox's admin endpoint.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from connectors.sandbox.app import PREFIX as SANDBOX_PREFIX
from graph.auth.oauth import pkce

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ACCOUNT = re.compile(r'name="accounts" value="([0-9]+)"')
_EXPIRES = re.compile(r'name="expires" type="date" value="([0-9-]+)"')
_BANK_FORM = re.compile(
    r'<form method="post" action="([^"]+)"><input type="hidden" name="csrf_token" '
    r'value="([^"]+)">'
)

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


@dataclass(frozen=True)
class BankCustomer:
    """The customer at the bank's own pages: their bank login (typed at the bank only) and
    where the bank's SMS code for a consent request comes from."""

    username: str
    password: str = field(repr=False)
    sca_code: Callable[[str], Awaitable[str]]  # consent_request_id -> the bank's code


async def sandbox_sca_code(
    http: httpx.AsyncClient, bank_url: str, consumer_key: str, consent_request_id: str
) -> str:
    """The SMS code the sandbox bank sent for a request's consent: the consent's id from the
    consumer's view of the request, then the code from `/sandbox/admin/sca-codes`."""
    base = bank_url.rstrip("/")
    consent = await http.get(
        f"{base}{SANDBOX_PREFIX}/consumer/consent-requests/{consent_request_id}/consents",
        headers={"Consumer-Key": consumer_key},
    )
    consent.raise_for_status()
    answer = await http.get(f"{base}/sandbox/admin/sca-codes/{consent.json()['consent_id']}")
    answer.raise_for_status()
    code: str = answer.json()["code"]
    return code


async def link_bank(walker: PageWalker, customer: BankCustomer) -> httpx.Response:
    """From the consent page: press "link", log in at the bank, approve, type the bank's
    code, and follow the bank back to our consent page."""
    return await answer_at_bank(walker, customer, await start_bank_link(walker))


async def start_bank_link(walker: PageWalker, expires: str | None = None) -> str:
    """Press "link" on the consent page (with its expiry, or `expires`); the address of the
    bank's page the browser is sent to."""
    asked = await walker.post("/auth/flow/bank", {"expires": expires or walker.default_expiry()})
    location = asked.headers.get("location", "")
    if asked.status_code != 303 or location.startswith("/"):
        raise RuntimeError("the consent page did not send the browser to the bank")
    return location


async def answer_at_bank(
    walker: PageWalker,
    customer: BankCustomer,
    location: str,
    *,
    approve: bool = True,
    code: str | None = None,
    follow: bool = True,
) -> httpx.Response:
    """At the bank's page `location`: log in, approve (typing the bank's code, or `code`)
    or refuse. The bank's redirect back to us is followed to our page (unless not
    `follow`); else the bank's last page."""
    http = walker.http
    page = await http.get(location)
    page = await _bank_post(
        http, location, page, {"username": customer.username, "password": customer.password}
    )
    page = await _bank_post(http, location, page, {"decision": "approve" if approve else "refuse"})
    if approve:
        request_id = parse_qs(urlsplit(location).query)["consent_request_id"][0]
        answer = code if code is not None else await customer.sca_code(request_id)
        page = await _bank_post(http, location, page, {"code": answer})
    if page.status_code != 303 or not follow:
        return page
    return await walker.get(page.headers["location"])


async def _bank_post(
    http: httpx.AsyncClient, at: str, page: httpx.Response, data: dict[str, str]
) -> httpx.Response:
    """Submit the bank page's form (its action and CSRF token) with `data`."""
    found = _BANK_FORM.search(page.text)
    if found is None:
        raise RuntimeError(f"the bank's page has no form (HTTP {page.status_code})")
    action, csrf = found.groups()
    return await http.post(urljoin(at, action), data={"csrf_token": csrf, **data})


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
    bank: BankCustomer | None = None,
) -> dict[str, Any]:
    """Authorise every account of the customer for `scopes` with the code and `pin` (chosen
    and repeated if the customer has none yet), after linking the bank as `bank` when
    given; the token endpoint's answer."""
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
    if bank is not None:
        await link_bank(walker, bank)
        if not walker.account_ids():
            raise RuntimeError("the bank link shared no account")
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
