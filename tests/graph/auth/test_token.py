"""POST /auth/token and /auth/revoke: codes, PKCE, clients, refresh rotation, revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients
from graph.auth.runtime import AuthConfig
from graph.server.app import create_app
from graph.settings import Settings
from ledger import consents
from ledger.models import Consent, User, table
from ledger.types import utcnow

from .conftest import Harness
from .support import PHONE_A, Customers, Flow, Registered, graphql


def _error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"error": error}
    assert response.headers["cache-control"] == "no-store"


async def _refresh(
    harness: Harness, registered: Registered, token: str, **extra: str
) -> httpx.Response:
    return await harness.http.post(
        "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
        auth=(registered.client_id, registered.secret),
    )


async def _assert_revoked(harness: Harness, registered: Registered, tokens: dict[str, Any]) -> None:
    """Neither the access token nor the refresh token of `tokens` works any more."""
    assert (await graphql(harness.http, tokens["access_token"])).status_code == 401
    _error(await _refresh(harness, registered, tokens["refresh_token"]), 400, "invalid_grant")


@asynccontextmanager
async def _limited_http(
    settings: Settings, engine: AsyncEngine, **limits: int
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose auth rate limits are lowered to `limits`."""
    limited = settings.model_copy(update=limits)
    app = create_app(
        limited, engine=engine, auth=AuthConfig(sender=DevelopmentSender(reveal_codes=True))
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


async def test_a_code_is_exchanged_for_tokens(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    response = await flow.exchange(await flow.code_grant())
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["scope"] == "accounts:read balances:read"


async def test_a_json_body_with_client_secret_post_works_too(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    response = await harness.http.post(
        "/auth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": registered.redirect_uri,
            "code_verifier": flow.verifier,
            "client_id": registered.client_id,
            "client_secret": registered.secret,
        },
    )
    assert response.status_code == 200, response.text


async def test_a_replayed_code_revokes_everything_it_issued(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    first = (await flow.exchange(code)).json()
    assert (await graphql(harness.http, first["access_token"])).status_code == 200
    _error(await flow.exchange(code), 400, "invalid_grant")
    assert (await graphql(harness.http, first["access_token"])).status_code == 401
    _error(await _refresh(harness, registered, first["refresh_token"]), 400, "invalid_grant")


async def test_a_pkce_mismatch_is_refused_and_burns_the_code(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    other = Flow(harness.http, registered, harness.sender).verifier
    _error(await flow.exchange(code, code_verifier=other), 400, "invalid_grant")
    _error(await flow.exchange(code), 400, "invalid_grant")


async def test_a_code_older_than_60_seconds_is_refused(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    harness.clock.advance(seconds=61)
    _error(await flow.exchange(code), 400, "invalid_grant")


async def test_a_redirect_uri_mismatch_is_refused(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    response = await flow.exchange(code, redirect_uri="https://budget.example/other")
    _error(response, 400, "invalid_grant")


async def test_a_wrong_client_secret_is_invalid_client(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    response = await flow.exchange(code, auth=(registered.client_id, registered.secret + "x"))
    _error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")
    # The code was not touched: the right client can still redeem it.
    assert (await flow.exchange(code)).status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "authorization_code"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, 400, "invalid_grant"),
        (
            {"grant_type": "refresh_token", "refresh_token": "x", "scope": "root:all"},
            400,
            "invalid_scope",
        ),
    ],
)
async def test_malformed_token_requests(
    harness: Harness, registered: Registered, data: dict[str, str], status: int, error: str
) -> None:
    response = await harness.http.post(
        "/auth/token", data=data, auth=(registered.client_id, registered.secret)
    )
    _error(response, status, error)


async def test_no_or_two_client_authentications(harness: Harness, registered: Registered) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": "x"}
    _error(await harness.http.post("/auth/token", data=data), 401, "invalid_client")
    both = {**data, "client_id": registered.client_id, "client_secret": registered.secret}
    response = await harness.http.post(
        "/auth/token", data=both, auth=(registered.client_id, registered.secret)
    )
    _error(response, 400, "invalid_request")
    response = await harness.http.post(
        "/auth/token",
        content=b"grant_type=refresh_token&grant_type=authorization_code",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(registered.client_id, registered.secret),
    )
    _error(response, 400, "invalid_request")


async def test_a_code_issued_to_another_client_is_refused(
    harness: Harness,
    registered: Registered,
    customers: Customers,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        other = await clients.create(session, name="Other", redirect_uris=[registered.redirect_uri])
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    response = await flow.exchange(code, auth=(other.client.client_id, other.secret))
    _error(response, 400, "invalid_grant")


async def test_refresh_rotates_and_reuse_revokes_the_grant(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    first = await flow.tokens()
    second = (await _refresh(harness, registered, first["refresh_token"])).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await graphql(harness.http, second["access_token"])).status_code == 200
    third = (await _refresh(harness, registered, second["refresh_token"])).json()
    # The first refresh token comes back: someone holds a copy. Everything dies.
    _error(await _refresh(harness, registered, first["refresh_token"]), 400, "invalid_grant")
    _error(await _refresh(harness, registered, third["refresh_token"]), 400, "invalid_grant")
    for token in (first, second, third):
        assert (await graphql(harness.http, token["access_token"])).status_code == 401


async def test_refresh_may_narrow_the_scope_but_not_widen_it(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    first = await flow.tokens()
    _error(
        await _refresh(harness, registered, first["refresh_token"], scope="cards:read"),
        400,
        "invalid_scope",
    )
    narrowed = await _refresh(harness, registered, first["refresh_token"], scope="accounts:read")
    assert narrowed.json()["scope"] == "accounts:read"


async def test_a_revoked_consent_stops_tokens_and_refresh(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    tokens = await flow.tokens()
    async with harness.sessions.begin() as session:
        (consent,) = await consents.of_user(session, (await _user(session)))
        await consents.transition(session, consent.id, consents.REVOKED, now=utcnow())
    await _assert_revoked(harness, registered, tokens)


async def test_an_expired_consent_stops_tokens_and_refresh(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    tokens = await flow.tokens()
    async with harness.sessions.begin() as session:
        await session.execute(
            update(table(Consent)).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    await _assert_revoked(harness, registered, tokens)


async def _user(session: AsyncSession) -> int:
    return int((await session.execute(select(User.id).where(User.phone == PHONE_A))).scalar_one())


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
async def test_revoke_ends_the_grant_behind_either_token(
    harness: Harness, registered: Registered, customers: Customers, which: str
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    tokens = await flow.tokens()
    response = await harness.http.post(
        "/auth/revoke",
        data={"token": tokens[which]},
        auth=(registered.client_id, registered.secret),
    )
    assert response.status_code == 200
    await _assert_revoked(harness, registered, tokens)


async def test_revoking_an_unknown_token_answers_200(
    harness: Harness, registered: Registered
) -> None:
    response = await harness.http.post(
        "/auth/revoke", data={"token": "nothing"}, auth=(registered.client_id, registered.secret)
    )
    assert response.status_code == 200


async def test_a_bearer_token_in_the_query_string_is_not_read(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    tokens = await flow.tokens()
    response = await harness.http.post(
        "/graphql",
        params={"access_token": tokens["access_token"]},
        json={"query": "{ viewer { consent { status } } }"},
    )
    assert response.status_code == 401


async def test_the_token_endpoint_is_rate_limited_per_address(
    settings: Settings, engine: AsyncEngine, registered: Registered
) -> None:
    async with _limited_http(settings, engine, auth_rate_per_ip_per_minute=3) as http:
        data = {"grant_type": "refresh_token", "refresh_token": "x"}
        auth = (registered.client_id, registered.secret)
        for _ in range(3):
            assert (await http.post("/auth/token", data=data, auth=auth)).status_code == 400
        response = await http.post("/auth/token", data=data, auth=auth)
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "rate_limit" and body["retry_after"] >= 1
    assert response.headers["retry-after"] == str(body["retry_after"])


async def test_the_token_endpoint_is_rate_limited_per_client(
    settings: Settings, engine: AsyncEngine, registered: Registered
) -> None:
    async with _limited_http(settings, engine, auth_rate_per_client_per_minute=2) as http:
        data = {"grant_type": "refresh_token", "refresh_token": "x"}
        wrong = (registered.client_id, "wrong-secret")
        for _ in range(2):
            assert (await http.post("/auth/token", data=data, auth=wrong)).status_code == 401
        response = await http.post(
            "/auth/token", data=data, auth=(registered.client_id, registered.secret)
        )
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limit"
