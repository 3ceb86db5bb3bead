"""Talking to the API in tests: development tokens and GraphQL requests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import jwt
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.credentials import Credentials, CredentialsError
from connectors.keys import Keyring
from graph.auth.oauth import clients
from graph.auth.scopes import ALL_SCOPES
from graph.cli.dev.tokens import issue_development_token
from ledger.models import AuditEvent, Consent, metadata, table
from ledger.types import utcnow

from .ledger_data import PHONE_A

SECRET = "test-secret-" + "0123456789abcdef" * 4
KEYS = Keyring(SECRET)
KID, TOKEN_KEY = KEYS.token_signing_key
CONSENTS = table(Consent)
AUDIT = table(AuditEvent)


class Api:
    """Issues development tokens and sends GraphQL requests with them."""

    def __init__(self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]):
        self.client = client
        self.sessions = sessions

    async def token(
        self,
        phone: str = PHONE_A,
        scopes: Sequence[str] = ALL_SCOPES,
        account_ids: Sequence[int] = (),
        *,
        client: int | None = None,
    ) -> str:
        """A token of a new consent: a development consent, or one given to the app whose
        row id is `client` (as the consent flow records it)."""
        async with self.sessions() as session, session.begin():
            issued = await issue_development_token(
                session,
                phone=phone,
                scopes=frozenset(scopes),
                account_ids=list(account_ids),
                keys=KEYS,
                now=utcnow(),
                ttl=timedelta(minutes=10),
            )
            if client is not None:
                await session.execute(
                    update(CONSENTS)
                    .where(CONSENTS.c.id == issued.consent_id)
                    .values(client_id=client)
                )
        return issued.token

    async def register_app(self, name: str = "Budget App") -> tuple[int, str]:
        """Registers an app: (its row id, its public client id)."""
        async with self.sessions.begin() as session:
            new = await clients.create(
                session, name=name, redirect_uris=["https://budget.example/callback"]
            )
        return new.client.id, new.client.client_id

    async def audit_rows(self) -> list[AuditEvent]:
        async with self.sessions() as session:
            found = await session.execute(select(AuditEvent).order_by(AUDIT.c.id))
            return list(found.scalars())

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token or await self.token())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def consent_of(token: str) -> int:
    """The consent id a token carries."""
    return int(jwt.decode(token, options={"verify_signature": False})["cid"])


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collects the SQL statements sent while the block runs."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def sign(claims: dict[str, Any], *, key: bytes = TOKEN_KEY, algorithm: str = "HS256") -> str:
    """A token over `claims` as the API signs them (by default), with the current `kid`."""
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": KID})


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, its signature checked with the test key."""
    claims: dict[str, Any] = jwt.decode(
        token, TOKEN_KEY, algorithms=["HS256"], audience="alif-graph-api"
    )
    return claims


async def columns_holding(sessions: async_sessionmaker[AsyncSession], needle: str) -> list[str]:
    """Every `table.column` of the whole database with a value containing `needle` (text,
    or bytes as stored): where a secret would be if it had leaked into a row."""
    found = []
    async with sessions() as session:
        for each in metadata.sorted_tables:
            for row in (await session.execute(select(each))).mappings():
                for column, value in row.items():
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    if needle.encode() in raw:
                        found.append(f"{each.name}.{column}")
    return found


async def stored_credentials(
    sessions: async_sessionmaker[AsyncSession], keys: Keyring
) -> list[Credentials]:
    """Every blob of the whole database that decrypts as credentials with `keys`."""
    found = []
    async with sessions() as session:
        for each in metadata.sorted_tables:
            for row in (await session.execute(select(each))).mappings():
                for value in row.values():
                    if isinstance(value, bytes) and value:
                        try:
                            found.append(credentials.decrypt(value, keys))
                        except CredentialsError:
                            continue
    return found
