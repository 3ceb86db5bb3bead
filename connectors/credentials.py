"""Upstream credentials, encrypted at rest.

A Connection stores only ciphertext (Fernet: AES-128-CBC + HMAC-SHA256). The key comes from
the caller (graph/ reads it from settings); nothing here reads the environment.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass

import orjson
from cryptography.fernet import Fernet, InvalidToken


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


def _fernet(secret: str) -> Fernet:
    # Any operator-chosen secret becomes a valid 32-byte Fernet key.
    digest = hashlib.sha256(b"alif-graph/credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(credentials: Credentials, secret: str) -> bytes:
    return _fernet(secret).encrypt(orjson.dumps(asdict(credentials)))


def decrypt(blob: bytes, secret: str) -> Credentials:
    try:
        data = orjson.loads(_fernet(secret).decrypt(blob))
    except InvalidToken:
        raise CredentialsError("stored credentials cannot be decrypted with this key") from None
    return Credentials(**data)
