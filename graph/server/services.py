"""What the HTTP endpoints share for the life of the process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from connectors.bank_access import BankAccess
from connectors.keys import Keyring
from graph.auth.principal import Principal, authenticate
from graph.core.errors import Unauthenticated
from graph.limits.requests import RequestLimits
from graph.settings import Settings
from ledger.types import utcnow


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: Keyring
    # How live reads reach the banks (a sandbox transport in tests and the demo).
    bank: BankAccess
    # The API's rate limits, one set of buckets per process (or shared through Redis).
    limits: RequestLimits

    async def authenticate(self, session: AsyncSession, request: Request) -> Principal:
        """The request's principal from its bearer token; raises Unauthenticated.

        Failed attempts are audited, but a flood of them from one address must not become a
        flood of audit rows: past a per-address rate the request is still refused, with no
        row (the log says so once per refusal burst)."""
        try:
            return await authenticate(
                session,
                request.headers.get("authorization"),
                keys=self.keys,
                now=utcnow(),
                allow_development=not self.settings.is_production,
            )
        except Unauthenticated:
            if await self.limits.failed_auth_flood(client_ip(request) or "unknown"):
                request.state.skip_audit = True
            raise


def base_url(settings: Settings, request: Request) -> str:
    """This service's address as clients reach it: `public_url`, else the request's."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


def request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "-"))


def client_ip(request: Request) -> str | None:
    return request.client.host[:45] if request.client else None
