"""401 challenges (RFC 6750) on GraphQL and REST, and the allowed clock skew of `iat` (FAPI 2.0)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.oauth.tokens import issue_access_token
from graph.auth.principal import authenticate
from graph.auth.scopes import ALL_SCOPES
from graph.core.errors import InvalidToken
from ledger.types import utcnow

from .helpers import CONSENTS, KEYS, Api, consent_of
from .ledger_data import LedgerData

VIEWER = "{ viewer { consent { id } } }"
TRANSACTIONS = "/api/v1/alif/transactions"
NO_TOKEN = "Bearer"
INVALID_TOKEN = 'Bearer error="invalid_token"'


async def graphql(api: Api, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await api.client.post("/graphql", json={"query": VIEWER}, headers=headers)


async def rest(api: Api, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await api.client.get(TRANSACTIONS, headers=headers)


def token_issued_at(user_id: int, consent_id: int, offset: timedelta) -> str:
    """A correctly signed token whose `iat` is `offset` from now."""
    return issue_access_token(
        KEYS, user_id=user_id, consent_id=consent_id, scopes=frozenset(ALL_SCOPES),
        now=utcnow() + offset, ttl=timedelta(minutes=10),
    )  # fmt: skip


@pytest.mark.parametrize("send", [graphql, rest], ids=["graphql", "rest"])
async def test_a_refused_token_is_challenged_as_invalid_and_a_missing_one_is_asked_for(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession], send
):
    revoked = await api.token()
    async with sessions.begin() as session:
        await session.execute(
            update(CONSENTS).where(CONSENTS.c.id == consent_of(revoked)).values(status="REVOKED")
        )
    future = token_issued_at(ledger.user_a, consent_of(await api.token()), timedelta(minutes=1))

    challenges = {
        "none": (await send(api, None)).headers.get("www-authenticate"),
        "basic": (await send(api, "Basic dXNlcjpwYXNz")).headers.get("www-authenticate"),
        "garbage": (await send(api, "Bearer not.a.jwt")).headers.get("www-authenticate"),
        "revoked consent": (await send(api, f"Bearer {revoked}")).headers.get("www-authenticate"),
        "future iat": (await send(api, f"Bearer {future}")).headers.get("www-authenticate"),
    }

    assert challenges == {
        "none": NO_TOKEN,
        "basic": NO_TOKEN,
        "garbage": INVALID_TOKEN,
        "revoked consent": INVALID_TOKEN,
        "future iat": INVALID_TOKEN,
    }


@pytest.mark.parametrize("send", [graphql, rest], ids=["graphql", "rest"])
async def test_an_iat_a_few_seconds_ahead_is_the_issuers_clock_and_is_served(
    api: Api, ledger: LedgerData, send
):
    ahead = token_issued_at(ledger.user_a, consent_of(await api.token()), timedelta(seconds=5))

    response = await send(api, f"Bearer {ahead}")

    assert response.status_code == 200, response.text
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize(("ahead", "accepted"), [(9, True), (10, True), (11, False), (60, False)])
async def test_iat_may_be_at_most_ten_seconds_ahead(
    api: Api,
    ledger: LedgerData,
    sessions: async_sessionmaker[AsyncSession],
    ahead: int,
    accepted: bool,
):
    consent = consent_of(await api.token())
    now = utcnow().replace(microsecond=0)
    token = issue_access_token(
        KEYS, user_id=ledger.user_a, consent_id=consent, scopes=frozenset(ALL_SCOPES),
        now=now + timedelta(seconds=ahead), ttl=timedelta(minutes=10),
    )  # fmt: skip

    async with sessions() as session:
        try:
            principal = await authenticate(session, f"Bearer {token}", keys=KEYS, now=now)
        except InvalidToken:
            principal = None

    assert (principal is not None) == accepted
    if principal is not None:
        assert principal.consent.id == consent


async def test_a_token_expires_at_its_exp_by_the_servers_clock(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    consent = consent_of(await api.token())
    issued = utcnow().replace(microsecond=0)
    token = issue_access_token(
        KEYS, user_id=ledger.user_a, consent_id=consent, scopes=frozenset(ALL_SCOPES),
        now=issued, ttl=timedelta(minutes=10),
    )  # fmt: skip

    async def accepted_at(now) -> bool:
        async with sessions() as session:
            try:
                await authenticate(session, f"Bearer {token}", keys=KEYS, now=now)
            except InvalidToken:
                return False
            return True

    before = await accepted_at(issued + timedelta(minutes=10, seconds=-1))
    at = await accepted_at(issued + timedelta(minutes=10))

    assert (before, at) == (True, False)
