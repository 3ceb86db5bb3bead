"""The client registry: apps that may ask customers for consent.

A client's secret is shown once at registration and stored only as a salted scrypt hash.
Redirect URIs are matched exactly (no prefixes, no wildcards): a loose match is how
authorization codes get sent to an attacker.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.scopes import ALL_SCOPES
from ledger.models import Client, table
from ledger.types import utcnow

CLIENTS = table(Client)

CLIENT_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# scrypt cost: ~16 MiB and tens of milliseconds, run off the event loop.
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    id: int
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    allowed_scopes: frozenset[str]

    def has_redirect_uri(self, uri: str) -> bool:
        return uri in self.redirect_uris


@dataclass(frozen=True, slots=True)
class NewClient:
    client: RegisteredClient
    secret: str  # shown once, never stored


def check_redirect_uri(uri: str) -> str:
    """A redirect URI fit for registration: absolute https (http only to this machine),
    no fragment, no user info."""
    parts = urlsplit(uri)
    loopback = parts.hostname in _LOOPBACK
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URI: {uri}")
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"only https is allowed, except to localhost: {uri}")
    if parts.fragment or "#" in uri or parts.username or parts.password:
        raise ValueError(f"a redirect URI has no fragment and no user info: {uri}")
    if len(uri) > 500:
        raise ValueError("a redirect URI is at most 500 characters")
    return uri


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def secret_matches(secret: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, expected = stored.split("$")
        if kind != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(),
            salt=base64.urlsafe_b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except ValueError:
        return False
    return secrets.compare_digest(digest, base64.urlsafe_b64decode(expected))


def _row_client(row: Client) -> RegisteredClient:
    return RegisteredClient(
        id=int(row.id or 0),
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(u for u in row.redirect_uris.split("\n") if u),
        allowed_scopes=frozenset(row.allowed_scopes.split()),
    )


async def create(
    session: AsyncSession,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: frozenset[str] | None = None,
) -> NewClient:
    """Register an app; the caller commits. The returned secret is the only copy."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("a client name is 1-200 characters")
    if not redirect_uris:
        raise ValueError("give at least one redirect URI")
    uris = [check_redirect_uri(u) for u in dict.fromkeys(redirect_uris)]
    allowed = frozenset(ALL_SCOPES) if scopes is None else scopes
    client_id = "app_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    row = Client(
        client_id=client_id,
        name=name,
        secret_hash=secret_hash,
        redirect_uris="\n".join(uris),
        allowed_scopes=" ".join(sorted(allowed)),
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return NewClient(client=_row_client(row), secret=secret)


async def find(session: AsyncSession, client_id: str) -> RegisteredClient | None:
    if not CLIENT_ID_SHAPE.match(client_id):
        return None
    row = (
        await session.execute(select(Client).where(CLIENTS.c.client_id == client_id))
    ).scalar_one_or_none()
    return _row_client(row) if row else None


async def authenticate(
    session: AsyncSession, client_id: str, secret: str
) -> RegisteredClient | None:
    """The client if the secret is its own; None otherwise (same cost either way)."""
    row = None
    if CLIENT_ID_SHAPE.match(client_id):
        row = (
            await session.execute(select(Client).where(CLIENTS.c.client_id == client_id))
        ).scalar_one_or_none()
    stored = row.secret_hash if row else _dummy_hash()
    if not await asyncio.to_thread(secret_matches, secret, stored) or row is None:
        return None
    return _row_client(row)


@functools.cache
def _dummy_hash() -> str:
    # Verifying against it keeps an unknown client id as slow as a wrong secret.
    return hash_secret(secrets.token_urlsafe(32))
