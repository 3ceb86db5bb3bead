"""Walking the consent flow in tests: start, phone, code, decide, token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

from graph.auth import pkce
from graph.auth.sms import DevelopmentSender
from graph.auth.walkthrough import PageWalker, redirect_params

PHONE_A = "+992900000001"
PHONE_B = "+992900000002"
REDIRECT_URI = "https://budget.example/callback"
SCOPES = "accounts:read balances:read"
VIEWER = "{ viewer { consent { status scopes accountIds } } }"


@dataclass(frozen=True)
class Registered:
    client_id: str
    secret: str
    redirect_uri: str
    pk: int


@dataclass(frozen=True)
class Customers:
    a: list[int]
    b: list[int]


@dataclass
class Flow:
    """One authorization in progress, as the app and the customer's browser see it."""

    http: httpx.AsyncClient
    client: Registered
    sender: DevelopmentSender
    verifier: str = field(default_factory=pkce.new_verifier)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    walker: PageWalker = field(init=False)

    def __post_init__(self) -> None:
        self.walker = PageWalker(self.http)

    def params(self, **overrides: str) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "scope": SCOPES,
            "state": self.state,
            "code_challenge": pkce.challenge_of(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }

    async def start(self, **overrides: str) -> httpx.Response:
        return await self.walker.get("/auth/authorize", self.params(**overrides))

    async def phone(self, phone: str = PHONE_A) -> httpx.Response:
        return await self.walker.post("/auth/flow/phone", {"phone": phone})

    async def code(self, code: str | None = None, phone: str = PHONE_A) -> httpx.Response:
        return await self.walker.post(
            "/auth/flow/code", {"code": code or self.sender.last_code(phone) or ""}
        )

    async def signed_in(self, phone: str = PHONE_A) -> None:
        await self.start()
        await self.phone(phone)
        await self.code(phone=phone)

    async def approve(self, accounts: list[str] | None = None) -> dict[str, str]:
        response = await self.walker.post(
            "/auth/flow/decide",
            {
                "decision": "approve",
                "accounts": self.walker.account_ids() if accounts is None else accounts,
                "expires": self.walker.default_expiry(),
            },
        )
        assert response.status_code == 303, response.text
        return redirect_params(response)

    async def code_grant(self, phone: str = PHONE_A) -> str:
        await self.signed_in(phone)
        back = await self.approve()
        assert back["state"] == self.state
        return back["code"]

    async def exchange(self, code: str, **overrides: str) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uri,
            "code_verifier": self.verifier,
            **overrides,
        }
        return await self.http.post(
            "/auth/token", data=data, auth=(self.client.client_id, self.client.secret)
        )

    async def tokens(self, phone: str = PHONE_A) -> dict[str, Any]:
        response = await self.exchange(await self.code_grant(phone))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def graphql(http: httpx.AsyncClient, token: str, query: str = VIEWER) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
