"""Compact JWS with HS256, enough for OBP's consent JWTs (no dependency needed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def encode(claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_b64(orjson.dumps(_HEADER))}.{_b64(orjson.dumps(claims))}"
    return f"{signing_input}.{_sign(signing_input, secret)}"


def claims(token: str) -> dict[str, Any]:
    """The payload, NOT verified (to find which key verifies it). ValueError if not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a compact JWS")
    try:
        header = orjson.loads(_unb64(parts[0]))
        payload = orjson.loads(_unb64(parts[1]))
    except ValueError as exc:  # bad base64 and bad JSON are both ValueErrors
        raise ValueError("not a compact JWS") from exc
    if (
        not isinstance(header, dict)
        or header.get("alg") != "HS256"
        or not isinstance(payload, dict)
    ):
        raise ValueError("not an HS256 JWT")
    return payload


def verify(token: str, secret: bytes) -> bool:
    signing_input, _, signature = token.rpartition(".")
    # compare_digest refuses non-ASCII text; a header can carry any latin-1 character.
    if not (signing_input.isascii() and signature.isascii()):
        return False
    return hmac.compare_digest(_sign(signing_input, secret), signature)
