"""Registering and authenticating clients: apps that may ask customers for consent.

Storage is ledger/clients.py; this module makes and checks what goes in. A client's secret
is shown once at registration and stored only as a salted scrypt hash. Redirect URIs are
matched exactly (no prefixes, no wildcards): a loose match is how authorization codes get
sent to an attacker.
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

from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.scopes import ALL_SCOPES
from ledger import clients
from ledger.clients import RegisteredClient
from ledger.types import utcnow

CLIENT_ID_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# scrypt cost: ~16 MiB and tens of milliseconds, run off the event loop.
_N, _R, _P = 2**14, 8, 1


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
    client = await clients.register(
        session,
        client_id=client_id,
        name=name,
        secret_hash=secret_hash,
        redirect_uris=uris,
        allowed_scopes=allowed,
        now=utcnow(),
    )
    return NewClient(client=client, secret=secret)


async def find(session: AsyncSession, client_id: str) -> RegisteredClient | None:
    if not CLIENT_ID_SHAPE.match(client_id):
        return None
    return await clients.by_client_id(session, client_id)


async def authenticate(
    session: AsyncSession, client_id: str, secret: str
) -> RegisteredClient | None:
    """The client if the secret is its own; None otherwise (same cost either way)."""
    client = await find(session, client_id)
    stored = client.secret_hash if client else _dummy_hash()
    if not await asyncio.to_thread(secret_matches, secret, stored) or client is None:
        return None
    return client


@functools.cache
def _dummy_hash() -> str:
    # Verifying against it keeps an unknown client id as slow as a wrong secret.
    return hash_secret(secrets.token_urlsafe(32))
