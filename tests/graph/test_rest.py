"""The seed-compatible REST endpoints: same queries, same tokens, exact decimal numbers."""

from __future__ import annotations

import re
from datetime import date

import pytest

from graph.relay.ids import to_global_id
from graph.server.rest.routes import TYPE_WORDS
from graph.transactions.types import TransactionType
from ledger.money import format_minor

from .helpers import Api
from .ledger_data import OPENING_WALLET, LedgerData

TRANSACTIONS = "/api/v1/alif/transactions"


def statement_url(account_id: int) -> str:
    return f"/api/v1/alif/accounts/{to_global_id('Account', account_id)}/statement"


async def get(api: Api, url: str, token: str | None = None, **params: object):
    token = token or await api.token()
    return await api.client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})


async def test_transactions_have_the_seed_shape(api: Api, ledger: LedgerData):
    response = await get(api, TRANSACTIONS, from_date="2025-03-01", to_date="2025-03-31", limit=5)

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"transactions", "total_count"}
    march = [
        t for a in ledger.accounts_a for t in a.counted()
        if date(2025, 3, 1) <= t["booking_date"] <= date(2025, 3, 31)
    ]  # fmt: skip
    assert body["total_count"] == len(march)
    assert len(body["transactions"]) == 5
    first = body["transactions"][0]
    assert set(first) == {"id", "date", "amount", "type", "description", "balance_after"}
    assert first["date"] == "2025-03-31"


async def test_amounts_are_numbers_with_exactly_the_currency_decimals(api: Api, ledger: LedgerData):
    response = await get(api, TRANSACTIONS, limit=100)

    amounts = re.findall(r'"amount":(-?[0-9.]+)', response.text)
    assert amounts and all(re.fullmatch(r"-?\d+\.\d{2}", a) for a in amounts)
    wallet = {to_global_id("Transaction", t["id"]): t for t in ledger.wallet.transactions}
    for row in response.json()["transactions"]:
        if row["id"] in wallet:
            raw = wallet[row["id"]]
            assert f'"amount":{format_minor(raw["amount_minor"], "TJS")}' in response.text


async def test_transactions_filter_by_type_and_page_by_offset(api: Api, ledger: LedgerData):
    everything = (await get(api, TRANSACTIONS, type="service_payment", limit=100)).json()
    page = (await get(api, TRANSACTIONS, type="SERVICE_PAYMENT", limit=5, offset=5)).json()

    assert {t["type"] for t in everything["transactions"]} == {"SERVICE_PAYMENT"}
    assert everything["total_count"] == len(ledger.payment_ids)
    assert page["transactions"] == everything["transactions"][5:10]


@pytest.mark.parametrize("word", [*TYPE_WORDS, "Utility", "TOP-UP", "top_up"])
async def test_transactions_filter_by_the_seeds_type_words(api: Api, ledger: LedgerData, word: str):
    response = await get(api, TRANSACTIONS, type=word, limit=100)

    meant = {t.value for t in TYPE_WORDS.get(word.lower(), ())} or {
        TransactionType[word.upper().replace("-", "_")].value
    }
    expected = [t for a in ledger.accounts_a for t in a.counted() if t["type"] in meant]
    body = response.json()
    assert expected or word not in {"utility", "card", "transfer"}  # the data has each of these
    assert response.status_code == 200
    assert body["total_count"] == len(expected)
    assert {t["type"] for t in body["transactions"]} == {t["type"] for t in expected}


async def test_statement_agrees_with_graphql_and_independent_sums(api: Api, ledger: LedgerData):
    response = await get(
        api, statement_url(ledger.wallet.id), from_date="2025-02-01", to_date="2025-02-28"
    )

    booked = [t for t in ledger.wallet.counted() if t["status"] == "BOOKED"]
    opening = OPENING_WALLET + sum(
        t["amount_minor"] for t in booked if t["booking_date"] < date(2025, 2, 1)
    )
    february = [t["amount_minor"] for t in booked if t["booking_date"].month == 2]
    assert response.status_code == 200
    assert response.json() == {
        "opening_balance": float(format_minor(opening, "TJS")),
        "closing_balance": float(format_minor(opening + sum(february), "TJS")),
        "total_debits": float(format_minor(-sum(a for a in february if a < 0), "TJS")),
        "total_credits": float(format_minor(sum(a for a in february if a > 0), "TJS")),
        "currency": "TJS",
    }
    assert f'"opening_balance":{format_minor(opening, "TJS")}' in response.text


async def test_statement_of_another_customer_looks_like_a_missing_account(
    api: Api, ledger: LedgerData
):
    token = await api.token()
    params = {"from_date": "2025-01-01", "to_date": "2025-01-31"}

    foreign = await get(api, statement_url(ledger.foreign.id), token, **params)
    missing = await get(api, statement_url(987654), token, **params)

    assert foreign.status_code == missing.status_code == 404
    assert {**foreign.json(), "request_id": "-"} == {**missing.json(), "request_id": "-"}


async def test_rest_errors(api: Api, ledger: LedgerData):
    no_token = await api.client.get(TRANSACTIONS)
    no_scope = await get(api, TRANSACTIONS, await api.token(scopes=["accounts:read"]))
    bad_date = await get(api, TRANSACTIONS, from_date="2025-02-30")
    bad_type = await get(api, TRANSACTIONS, type="TELEPORT")
    assert "utility" in bad_type.json()["message"]
    too_many = await get(api, TRANSACTIONS, limit=101)
    missing_period = await get(api, statement_url(ledger.wallet.id))

    assert (no_token.status_code, no_token.json()["error"]) == (401, "UNAUTHENTICATED")
    assert (no_scope.status_code, no_scope.json()["error"]) == (403, "FORBIDDEN")
    for response in (bad_date, bad_type, too_many, missing_period):
        assert (response.status_code, response.json()["error"]) == (400, "BAD_USER_INPUT")


async def test_openapi_document_describes_every_endpoint(api: Api):
    response = await api.client.get("/api/v1/openapi.json")

    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/api/v1/alif/transactions",
        "/api/v1/alif/accounts/{accountId}/statement",
        # statement files and their download links (tests/graph/test_exports_delivery.py)
        "/api/v1/alif/accounts/{accountId}/statement.{extension}",
        "/api/v1/exports/{link}",
    }
