"""The generated OpenAPI document against the real answers: every status each route
documents is provoked, and every body (errors, 429 and 500 included) validates against
the document's schema for that route and status; no route answers a status it does not
document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate

from graph.relay.ids import to_global_id
from graph.server.rest.openapi import openapi_document
from ledger.queries import pages, statements

from .conftest import AppApi
from .helpers import Api
from .ledger_data import LedgerData

TRANSACTIONS = "/api/v1/alif/transactions"
STATEMENT = "/api/v1/alif/accounts/{accountId}/statement"
FILE = STATEMENT + ".{extension}"
DOWNLOAD = "/api/v1/exports/{link}"
SLOW = 0.01  # tokens per second: nothing refills within a test
PERIOD = {"from_date": "2025-02-01", "to_date": "2025-02-28"}


def _statement(account_id: int) -> str:
    return STATEMENT.replace("{accountId}", to_global_id("Account", account_id))


async def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("the database fell over")


Provoke = Callable[[], Awaitable[httpx.Response]]


async def _answers(
    app_api: AppApi, ledger: LedgerData, path: str, monkeypatch: pytest.MonkeyPatch
) -> dict[int, httpx.Response]:
    """One answer per status the route can give, each provoked the ordinary way."""
    api = await app_api()
    strict = await app_api(rate_per_consent_capacity=12, rate_per_consent_per_second=SLOW)
    is_statement = path == STATEMENT
    url = _statement(ledger.wallet.id) if is_statement else TRANSACTIONS
    params = {**PERIOD} if is_statement else {"limit": 1}

    async def get(on: Api, to: str = url, scopes: list[str] | None = None, **extra: Any):
        token = await on.token(scopes=scopes) if scopes else await on.token()
        headers = {"Authorization": f"Bearer {token}"}
        return await on.client.get(to, params={**params, **extra}, headers=headers)

    async def rate_limited() -> httpx.Response:
        token = await strict.token()
        for _ in range(4):
            answer = await strict.client.get(
                url, params=params, headers={"Authorization": f"Bearer {token}"}
            )
            if answer.status_code == 429:
                break
        return answer

    async def failing() -> httpx.Response:
        with monkeypatch.context() as patch:
            patch.setattr(statements if is_statement else pages, _query_of(path), _boom)
            return await get(api)

    provoked: dict[int, Provoke] = {
        200: lambda: get(api),
        400: lambda: get(api, from_date="2025-02-30"),
        401: lambda: api.client.get(url, params=params),
        403: lambda: get(api, scopes=["accounts:read"]),
        429: rate_limited,
        500: failing,
    }
    if is_statement:
        provoked[404] = lambda: get(api, to=_statement(987_654))
    return {status: await provoke() for status, provoke in provoked.items()}


def _query_of(path: str) -> str:
    return "statement_figures" if path == STATEMENT else "transaction_offset_page"


async def test_the_document_is_valid_openapi(client: httpx.AsyncClient):
    document = (await client.get("/api/v1/openapi.json")).json()

    validate(document)
    # The file routes (statement.<extension>, download links): tests/graph/test_exports_delivery.py
    assert set(document["paths"]) == {TRANSACTIONS, STATEMENT, FILE, DOWNLOAD}


@pytest.mark.parametrize("path", [TRANSACTIONS, STATEMENT])
async def test_every_answer_of_every_route_matches_the_document(
    app_api: AppApi, ledger: LedgerData, path: str, monkeypatch: pytest.MonkeyPatch
):
    document = (await (await app_api()).client.get("/api/v1/openapi.json")).json()
    documented = document["paths"][path]["get"]["responses"]

    answers = await _answers(app_api, ledger, path, monkeypatch)

    assert {int(s) for s in documented} == set(answers)
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        schema = documented[str(status)]["content"]["application/json"]["schema"]
        jsonschema.validate(
            answer.json(),
            {**schema, "components": document["components"]},
            cls=jsonschema.Draft202012Validator,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )


def test_the_document_refuses_what_the_code_does_not_send():
    """The schemas are strict enough to catch drift: a missing field, an extra one, a
    wrong error code for the status."""
    document = openapi_document(100)
    components = {"components": document["components"]}

    def valid(body: dict[str, Any], model: str) -> bool:
        schema = {"$ref": f"#/components/schemas/{model}", **components}
        return jsonschema.Draft202012Validator(schema).is_valid(body)

    error = {"error": "FORBIDDEN", "message": "m", "request_id": "r"}
    assert valid(error, "Error403")
    assert not valid({**error, "error": "NOT_FOUND"}, "Error403")
    assert not valid({**error, "extra": 1}, "Error403")
    assert not valid({"error": "RATE_LIMITED", "message": "m", "request_id": "r"}, "Error429")
    assert not valid({"error": "INTERNAL_SERVER_ERROR"}, "InternalError")
