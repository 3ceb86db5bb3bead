from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.oauth import clients, pkce
from ledger.models import Client

from .support import REDIRECT_URI, Registered

# RFC 7636 appendix B
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_s256_matches_the_rfc_example() -> None:
    assert pkce.challenge_of(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.verify(RFC_VERIFIER, RFC_CHALLENGE)
    assert pkce.valid_challenge(RFC_CHALLENGE)


def test_pkce_refuses_a_wrong_or_malformed_verifier() -> None:
    assert not pkce.verify(RFC_VERIFIER[:-1] + "x", RFC_CHALLENGE)
    assert not pkce.verify("short", pkce.challenge_of("short"))
    # `plain`: the challenge itself as verifier
    assert not pkce.verify(RFC_CHALLENGE, RFC_CHALLENGE)


@pytest.mark.parametrize(
    "uri",
    [
        "http://budget.example/cb",  # http only to this machine
        "https://budget.example/cb#fragment",
        "https://user:pw@budget.example/cb",
        "budget.example/cb",
        "javascript:alert(1)",
    ],
)
def test_unfit_redirect_uris_are_refused_at_registration(uri: str) -> None:
    with pytest.raises(ValueError):
        clients.check_redirect_uri(uri)


def test_loopback_http_redirect_uris_are_allowed() -> None:
    assert clients.check_redirect_uri("http://127.0.0.1:8765/cb")


async def test_the_secret_is_stored_only_as_a_salted_scrypt_hash(
    sessions: async_sessionmaker[AsyncSession], registered: Registered
) -> None:
    async with sessions() as session:
        row = (await session.execute(select(Client))).scalar_one()
        assert registered.secret not in row.secret_hash
        assert row.secret_hash.startswith("scrypt$")
        assert clients.secret_matches(registered.secret, row.secret_hash)
        assert not clients.secret_matches(registered.secret + "x", row.secret_hash)
        assert await clients.authenticate(session, registered.client_id, registered.secret)
        assert await clients.authenticate(session, registered.client_id, "wrong") is None
        assert await clients.authenticate(session, "app_unknown", registered.secret) is None


async def test_redirect_uris_match_exactly(
    sessions: async_sessionmaker[AsyncSession], registered: Registered
) -> None:
    async with sessions() as session:
        client = await clients.find(session, registered.client_id)
    assert client is not None
    assert client.has_redirect_uri(REDIRECT_URI)
    for near in (
        REDIRECT_URI + "/",
        REDIRECT_URI + "?x=1",
        REDIRECT_URI.upper(),
        "https://budget.example",
    ):
        assert not client.has_redirect_uri(near)


def test_hashing_the_same_secret_twice_gives_different_hashes() -> None:
    assert clients.hash_secret("s3cret") != clients.hash_secret("s3cret")
