"""What the HTTP endpoints share for the life of the process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from graph.accounts.live import BankAccess
from graph.auth.principal import Principal, authenticate
from graph.settings import Settings
from ledger.types import utcnow


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secret: str
    # How live reads reach the banks (a sandbox transport in tests and the demo).
    bank: BankAccess

    async def authenticate(self, session: AsyncSession, request: Request) -> Principal:
        """The request's principal from its bearer token; raises Unauthenticated."""
        return await authenticate(
            session, request.headers.get("authorization"), secret=self.secret, now=utcnow()
        )


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))
