"""The client registry's storage: apps that may ask customers for consent.

A client's secret is stored only as a hash (made by the OAuth server, graph/auth/oauth);
redirect URIs are kept in order and matched exactly. A client, once registered, does not
change, so this module only inserts and reads.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Client, table

CLIENTS = table(Client)


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    id: int
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]
    secret_hash: str = field(repr=False, compare=False)

    def has_redirect_uri(self, uri: str) -> bool:
        return uri in self.redirect_uris


def _client(row: Client) -> RegisteredClient:
    return RegisteredClient(
        id=int(row.id or 0),
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(u for u in row.redirect_uris.split("\n") if u),
        allowed_scopes=frozenset(row.allowed_scopes.split()),
        secret_hash=row.secret_hash,
    )


async def register(
    session: AsyncSession,
    *,
    client_id: str,
    name: str,
    secret_hash: str,
    redirect_uris: list[str],
    allowed_scopes: frozenset[str],
    now: datetime,
) -> RegisteredClient:
    """Store a new client; the caller commits."""
    row = Client(
        client_id=client_id,
        name=name,
        secret_hash=secret_hash,
        redirect_uris="\n".join(redirect_uris),
        allowed_scopes=" ".join(sorted(allowed_scopes)),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _client(row)


async def by_client_id(session: AsyncSession, client_id: str) -> RegisteredClient | None:
    """The client with this public client id."""
    row = (
        await session.execute(select(Client).where(CLIENTS.c.client_id == client_id))
    ).scalar_one_or_none()
    return _client(row) if row else None


async def by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, RegisteredClient]:
    """The clients with these primary keys, by key; unknown keys are left out."""
    if not ids:
        return {}
    rows = await session.execute(select(Client).where(CLIENTS.c.id.in_(list(ids))))
    return {c.id: c for c in map(_client, rows.scalars())}
