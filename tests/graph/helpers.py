"""Talking to the API in tests: development tokens and GraphQL requests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.auth.dev_tokens import issue_development_token
from graph.auth.scopes import ALL_SCOPES
from ledger.types import utcnow

from .ledger_data import PHONE_A

SECRET = "test-secret-" + "0123456789abcdef" * 4


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
    ) -> str:
        async with self.sessions() as session, session.begin():
            issued = await issue_development_token(
                session,
                phone=phone,
                scopes=frozenset(scopes),
                account_ids=list(account_ids),
                secret=SECRET,
                now=utcnow(),
                ttl=timedelta(minutes=10),
            )
        return issued.token

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
