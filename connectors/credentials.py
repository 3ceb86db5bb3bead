"""Upstream credentials, encrypted at rest.

A Connection stores only ciphertext (Fernet: AES-128-CBC + HMAC-SHA256) under the
credentials key of a Keyring (connectors/keys.py): the current secret's key encrypts, any
configured secret's key decrypts, and `reencrypt_stored` moves every stored blob to the
current key. The keys come from the caller (graph/ reads them from settings); nothing here
reads the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson
from cryptography.fernet import InvalidToken
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.keys import Keyring
from ledger import connections


class CredentialsError(Exception):
    """Stored credentials cannot be decrypted with this key (wrong key or tampered)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """DirectLogin (username/password) or an OBP consent (consent_id/jwt), plus the consumer key."""

    consumer_key: str
    username: str | None = None
    password: str | None = None
    consent_id: str | None = None
    consent_jwt: str | None = None

    def __repr__(self) -> str:  # never print secrets, even in a debugger or traceback
        kind = "consent" if self.consent_id else "direct_login"
        return f"Credentials(kind={kind})"


def encrypt(credentials: Credentials, keys: Keyring) -> bytes:
    return keys.credentials.encrypt(orjson.dumps(asdict(credentials)))


def decrypt(blob: bytes, keys: Keyring) -> Credentials:
    try:
        data = orjson.loads(keys.credentials.decrypt(blob))
    except InvalidToken:
        raise CredentialsError("stored credentials cannot be decrypted with this key") from None
    return Credentials(**data)


@dataclass(frozen=True, slots=True)
class Reencrypted:
    """What `reencrypt_stored` did, by connection."""

    rewritten: int  # now under the current key
    current: int  # already were
    undecryptable: tuple[int, ...]  # connection ids no configured key opens; left as they are


async def reencrypt_stored(
    sessions: async_sessionmaker[AsyncSession], keys: Keyring
) -> Reencrypted:
    """Rewrite every stored credential under the current key, in one transaction.
    Idempotent: a blob already under the current key is left alone, so a second run
    rewrites nothing. A blob changed meanwhile (a re-link) is not overwritten."""
    rewritten = current = 0
    undecryptable: list[int] = []
    async with sessions() as session, session.begin():
        for connection_id, blob in await connections.stored_credentials(session):
            if keys.is_current_credentials(blob):
                current += 1
                continue
            try:
                fresh = keys.credentials.rotate(blob)
            except InvalidToken:
                undecryptable.append(connection_id)
                continue
            if await connections.replace_credentials(session, connection_id, blob, fresh):
                rewritten += 1
            else:
                current += 1  # re-linked meanwhile, so encrypted with the current key
    return Reencrypted(rewritten, current, tuple(undecryptable))
