"""Walking the consent flow in tests: start, phone, code, decide, token; and the clock
and customers the flow runs against (shared with the browser tests in tests/e2e)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import pkce
from graph.cli.dev.walkthrough import PageWalker, redirect_params
from ledger import connections, customers
from ledger.models import Account, table
from ledger.types import utcnow

PHONE_A = "+992900000001"
PHONE_B = "+992900000002"
PIN = "246813"  # what the customers of these tests choose at their first approval
REDIRECT_URI = "https://budget.example/callback"
SCOPES = "accounts:read balances:read"
VIEWER = "{ viewer { consent { status scopes accountIds } } }"


class Clock:
    """Now, unless a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


async def add_customer(session: AsyncSession, phone: str, currencies: Sequence[str]) -> list[int]:
    """A customer connected to Alif with one wallet per currency; returns the account ids."""
    accounts = table(Account)
    institution = await connections.ensure_institution(
        session, "alif", "Alif Bank", "TJ", "ALIFTJ22"
    )
    user = await customers.ensure(session, phone)
    connection = await connections.add_connection(
        session,
        user_id=user,
        institution_id=institution,
        provider="alif",
        base_url="http://bank.test",
        bank_id="alif.tj",
        credentials_encrypted=b"",
    )
    ids = []
    for n, currency in enumerate(currencies):
        result = await session.execute(
            accounts.insert()
            .values(
                connection_id=connection,
                external_id=f"{phone}-{n}",
                institution_id=institution,
                user_id=user,
                type="WALLET",
                name=f"Wallet {currency}",
                number_masked=f"•••• {1000 + n}",
                currency=currency,
                payload_hash="x",
            )
            .returning(accounts.c.id)
        )
        ids.append(int(result.scalar_one()))
    return ids


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

    async def code(
        self, code: str | None = None, phone: str = PHONE_A, pin: str = PIN
    ) -> httpx.Response:
        """Post the code (the last one texted to `phone` unless given) and the PIN."""
        return await self.walker.post(
            "/auth/flow/code", {"code": code or self.sender.last_code(phone) or "", "pin": pin}
        )

    def asks_to_repeat_pin(self) -> bool:
        return 'action="/auth/flow/pin"' in self.walker.page

    async def pin(self, pin: str = PIN) -> httpx.Response:
        return await self.walker.post("/auth/flow/pin", {"pin": pin})

    async def signed_in(self, phone: str = PHONE_A) -> None:
        """Through both factors to the consent page (choosing the PIN the first time)."""
        await self.start()
        await self.phone(phone)
        await self.code(phone=phone)
        if self.asks_to_repeat_pin():
            await self.pin()

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

    async def exchange(
        self, code: str, *, auth: tuple[str, str] | None = None, **overrides: str
    ) -> httpx.Response:
        """Redeem `code`, as this flow's client unless `auth` names other credentials."""
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.client.redirect_uri,
            "code_verifier": self.verifier,
            **overrides,
        }
        return await self.http.post(
            "/auth/token", data=data, auth=auth or (self.client.client_id, self.client.secret)
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
