"""PKCE (RFC 7636), S256 only: `plain` would let anyone who sees the request use the code."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

METHOD = "S256"
# RFC 7636 4.1: 43-128 characters of [A-Z] [a-z] [0-9] - . _ ~
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
# A base64url SHA-256 digest without padding is exactly 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.match(challenge))


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(verifier: str, challenge: str) -> bool:
    if not _VERIFIER.match(verifier):
        return False
    return secrets.compare_digest(challenge_of(verifier), challenge)


def new_verifier() -> str:
    """A fresh verifier (for clients, the demo and tests)."""
    return secrets.token_urlsafe(48)
