"""Access tokens that were altered, unsigned or signed with another key are refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from graph.auth.oauth.tokens import InvalidToken, verify_access_token
from ledger.types import utcnow

from ..helpers import KEYS, sign
from .conftest import Harness
from .support import Customers, Flow, Registered, graphql


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    signature = token.rsplit(".", 1)[1]
    return (
        jwt.get_unverified_header(token),
        jwt.decode(token, options={"verify_signature": False}),
        signature,
    )


async def _token(harness: Harness, registered: Registered) -> str:
    tokens = await Flow(harness.http, registered, harness.sender).tokens()
    token: str = tokens["access_token"]
    assert (await graphql(harness.http, token)).status_code == 200
    return token


async def test_a_changed_payload_breaks_the_signature(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    token = await _token(harness, registered)
    header, claims, signature = _parts(token)
    for change in ({"cid": int(claims["cid"]) + 1}, {"sub": "999"}, {"scope": "cards:read"}):
        forged = f"{_b64(header)}.{_b64({**claims, **change})}.{signature}"
        assert (await graphql(harness.http, forged)).status_code == 401


async def test_alg_none_is_refused(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    token = await _token(harness, registered)
    _, claims, _ = _parts(token)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert (await graphql(harness.http, unsigned)).status_code == 401
    with pytest.raises(InvalidToken):
        verify_access_token(KEYS, unsigned, now=utcnow())


async def test_a_token_signed_with_another_key_is_refused(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    token = await _token(harness, registered)
    _, claims, _ = _parts(token)
    other = sign(claims, key=b"another-key-of-sufficient-length-0123456789")
    assert (await graphql(harness.http, other)).status_code == 401


async def test_a_grant_id_of_another_consent_is_refused(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    token = await _token(harness, registered)
    _, claims, _ = _parts(token)
    # Correctly signed, but the grant does not belong to the consent it names.
    moved = sign({**claims, "gid": int(claims["gid"]) + 7})
    assert (await graphql(harness.http, moved)).status_code == 401


def test_a_non_integer_grant_id_is_malformed() -> None:
    claims = {
        "iss": "alif-graph",
        "aud": "alif-graph-api",
        "sub": "1",
        "cid": 1,
        "gid": "1",
        "iat": 1,
        "exp": 4_000_000_000,
    }
    with pytest.raises(InvalidToken):
        verify_access_token(KEYS, sign(claims), now=utcnow())
