"""ALIF_GRAPH_ENV=production: no introspection, no suggestions, JSON POSTs only, a CORS
allow-list, and no development tokens."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph.settings import Settings

from .conftest import AppApi
from .helpers import Api, codes
from .ledger_data import LedgerData

ORIGIN = "https://budget.example"
TYPO = "{ accounts { edges { node { nmae } } } }"
ENUM_TYPO = "{ transactions(orderBy: BOOKING_DATE_DES) { totalCount } }"


@pytest.fixture
async def production(app_api: AppApi) -> Api:
    return await app_api(env="production", cors_origins=[ORIGIN])


async def app_token(api: Api, **kwargs: object) -> str:
    pk, _ = await api.register_app()
    return await api.token(client=pk, **kwargs)


async def test_an_apps_token_works(production: Api, ledger: LedgerData):
    body = await production.query(
        "{ viewer { consent { client } } }", token=await app_token(production)
    )

    assert body["data"] == {"viewer": {"consent": {"client": "Budget App"}}}


async def test_development_tokens_are_refused(production: Api, ledger: LedgerData):
    token = await production.token()

    graphql = await production.post("{ viewer { customer { id } } }", token=token)
    rest = await production.client.get(
        "/api/v1/alif/transactions", headers={"Authorization": f"Bearer {token}"}
    )

    assert graphql.status_code == rest.status_code == 401
    assert codes(graphql.json()) == ["UNAUTHENTICATED"]
    assert rest.json()["error"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "query", ["{ __schema { types { name } } }", '{ __type(name: "Account") { fields { name } } }']
)
async def test_introspection_is_off(production: Api, api: Api, ledger: LedgerData, query: str):
    refused = await production.query(query, token=await app_token(production))
    allowed = await api.query(query)

    # One error per field of an introspection type.
    assert set(codes(refused)) == {"BAD_USER_INPUT"} and refused["data"] is None
    assert "introspection has been disabled" in refused["errors"][0]["message"]
    assert "errors" not in allowed


async def test_typename_is_still_answered(production: Api, ledger: LedgerData):
    body = await production.query("{ __typename }", token=await app_token(production))

    assert body["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("query", [TYPO, ENUM_TYPO])
async def test_errors_suggest_no_names(production: Api, api: Api, ledger: LedgerData, query: str):
    refused = await production.query(query, token=await app_token(production))
    development = await api.query(query)

    assert codes(refused) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in str(refused)
    assert "Did you mean" in str(development)  # what production leaves out


async def test_get_is_not_served(production: Api, ledger: LedgerData):
    token = await app_token(production)

    response = await production.client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None],
)
async def test_only_json_is_taken(production: Api, ledger: LedgerData, content_type: str | None):
    token = await app_token(production)
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type

    response = await production.client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers=headers
    )

    assert response.status_code == 415


async def test_json_with_a_charset_is_json(production: Api, ledger: LedgerData):
    response = await production.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={
            "Authorization": f"Bearer {await app_token(production)}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )

    assert response.status_code == 200


async def test_cors_allows_only_the_listed_origins(production: Api, ledger: LedgerData):
    def preflight(origin: str) -> dict[str, str]:
        return {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }

    allowed = await production.client.options("/graphql", headers=preflight(ORIGIN))
    foreign = await production.client.options("/graphql", headers=preflight("https://evil.example"))
    actual = await production.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {await app_token(production)}"},
    )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert "GET" not in allowed.headers["access-control-allow-methods"]
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    assert actual.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in actual.headers["access-control-expose-headers"].lower()


def test_a_wildcard_origin_is_refused_in_production():
    with pytest.raises(ValidationError, match="not '\\*'"):
        Settings(env="production", cors_origins="*", secret_key="k" * 40)
    with pytest.raises(ValidationError, match="not an origin"):
        Settings(cors_origins="https://budget.example/path")
    assert Settings(cors_origins="https://a.example, http://localhost:3000").cors_origins == [
        "https://a.example",
        "http://localhost:3000",
    ]
