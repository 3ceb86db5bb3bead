"""Bad input is a typed BAD_USER_INPUT error, never a 500; anything unexpected is masked."""

from __future__ import annotations

import base64
import logging

import pytest

from graph.relay.ids import to_global_id
from ledger.queries import pages

from .helpers import Api, codes
from .ledger_data import LedgerData

TRANSACTIONS = """
query T($filter: TransactionFilter, $first: Int, $last: Int, $after: String,
        $order: TransactionOrder! = BOOKING_DATE_DESC) {
  transactions(filter: $filter, first: $first, last: $last, after: $after, orderBy: $order) {
    edges { node { id } }
  }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { id } }"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


RESOLVER_ERRORS = [
    ({"filter": {"from": "2025-03-01", "to": "2025-02-01"}}, "`from` must not be after `to`."),
    ({"first": 101}, "`first` must be at most 100."),
    ({"first": -1}, "`first` must not be negative."),
    ({"last": -5}, "`last` must not be negative."),
    ({"first": 5, "last": 5}, "Pass either `first` or `last`, not both."),
    ({"after": "not-a-cursor"}, "Malformed cursor: 'not-a-cursor'."),
    ({"after": b64("acc|1")}, f"Malformed cursor: {b64('acc|1')!r}."),
    ({"after": b64("tx|2025-13-01|5")}, f"Malformed cursor: {b64('tx|2025-13-01|5')!r}."),
    ({"filter": {"accountIds": ["%%%"]}}, "Malformed ID: '%%%'."),
    (
        {"filter": {"accountIds": [to_global_id("Card", 1)]}},
        "Expected an ID of type Account, got one of type Card.",
    ),
    (
        {"filter": {"minAmount": "-5"}},
        "`minAmount` bounds the absolute amount; it must not be negative.",
    ),
    (
        {"filter": {"minAmount": "10", "maxAmount": "5"}},
        "`minAmount` must not exceed `maxAmount`.",
    ),
]


@pytest.mark.parametrize(("variables", "message"), RESOLVER_ERRORS)
async def test_bad_arguments_are_bad_user_input(
    api: Api, ledger: LedgerData, variables: dict, message: str
):
    body = await api.query(TRANSACTIONS, variables)

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["path"] == ["transactions"]
    assert body["data"] == {"transactions": None}


REQUEST_ERRORS = [
    ({"filter": {"from": "2025-02-30"}}, "day is out of range for month"),
    ({"filter": {"from": "yesterday"}}, "Invalid isoformat string"),
    ({"filter": {"types": ["TELEPORT"]}}, "Value 'TELEPORT' does not exist in 'TransactionType'"),
    ({"order": "SIDEWAYS"}, "Value 'SIDEWAYS' does not exist in 'TransactionOrder'"),
    ({"filter": {"minAmount": "1e999"}}, "amount out of range"),
    ({"filter": {"minAmount": 5}}, "a Decimal is given as a string"),
    ({"filter": {"updatedSince": "2025-03-01T10:00:00"}}, "needs a UTC offset"),
    ({"first": "ten"}, "Int cannot represent non-integer value"),
]


@pytest.mark.parametrize(("variables", "fragment"), REQUEST_ERRORS)
async def test_invalid_values_are_bad_user_input(
    api: Api, ledger: LedgerData, variables: dict, fragment: str
):
    body = await api.query(TRANSACTIONS, variables)

    assert codes(body) == ["BAD_USER_INPUT"]
    assert fragment in body["errors"][0]["message"]
    assert "data" not in body or body["data"] is None


@pytest.mark.parametrize(
    "given",
    ["!!!", b64("Bogus:1"), b64("Account:01"), b64("Account:"), b64("Account:1:2"), "QWNj" * 40],
)
async def test_malformed_global_ids_are_bad_user_input(api: Api, ledger: LedgerData, given: str):
    body = await api.query(NODE, {"id": given})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith("Malformed ID")


async def test_invalid_literals_are_bad_user_input(api: Api, ledger: LedgerData):
    body = await api.query('{ transactions(filter: {to: "2025-02-29"}) { edges { cursor } } }')

    assert codes(body) == ["BAD_USER_INPUT"]


async def test_unknown_currency_for_insights(api: Api, ledger: LedgerData):
    body = await api.query(
        '{ spendingInsights(from: "2025-01-01", to: "2025-01-31", currency: "XYZ") { currency } }'
    )

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Unknown currency 'XYZ'."


async def test_too_many_ids_for_nodes(api: Api, ledger: LedgerData):
    ids = [to_global_id("Transaction", n) for n in range(1, 102)]

    body = await api.query("query N($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "`ids` takes at most 100 IDs."


async def test_an_unexpected_error_is_masked_and_logged_with_the_request_id(
    api: Api, ledger: LedgerData, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError('boom: SELECT pan FROM card -- File "/srv/app/ledger/queries.py"')

    monkeypatch.setattr(pages, "transaction_page", broken)
    caplog.set_level(logging.INFO, logger="graph.core.errors")

    response = await api.post(TRANSACTIONS, {"first": 5}, token=await api.token())

    body = response.json()
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    assert body["errors"] == [
        {
            "message": "Internal error.",
            "locations": [{"line": 4, "column": 3}],
            "path": ["transactions"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
    ]
    for leak in ("boom", "SELECT", "queries.py", "Traceback", "RuntimeError"):
        assert leak not in response.text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert logged[0].exc_info[0] is RuntimeError


async def test_the_client_request_id_is_kept(api: Api, ledger: LedgerData):
    response = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { customer { id } } }"},
        headers={"Authorization": f"Bearer {await api.token()}", "X-Request-ID": "abc-123"},
    )

    assert response.headers["x-request-id"] == "abc-123"


# --- limits ---------------------------------------------------------------------------------


async def test_cost_is_reported(api: Api, ledger: LedgerData):
    body = await api.query(
        "{ transactions(first: 10) { edges { node { id amount { amount } } } } }"
    )

    # transactions, then 10 times each of edges, node, id, amount and amount.amount
    assert body["extensions"]["cost"] == {"requested": 51, "maximum": 25_000}


async def test_a_query_over_the_cost_maximum_is_refused_before_it_runs(
    api: Api, ledger: LedgerData
):
    query = """
    { accounts(first: 100) { edges { node {
        transactions(first: 100) { edges { node { id amount { amount currency } } } }
    } } } }
    """

    body = await api.query(query)

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith("The query costs 60")
    assert body["errors"][0]["extensions"]["cost"] == body["extensions"]["cost"]
    assert body["extensions"]["cost"]["requested"] > body["extensions"]["cost"]["maximum"]
    assert body["data"] is None


async def test_depth_is_limited(api: Api, ledger: LedgerData):
    chain = "replacesPending { " * 10 + "id" + " }" * 10

    body = await api.query(f"{{ transactions {{ edges {{ node {{ {chain} }} }} }} }}")

    assert codes(body) == ["BAD_USER_INPUT"]
    assert "exceeds maximum operation depth of 10" in body["errors"][0]["message"]


async def test_aliases_are_limited(api: Api, ledger: LedgerData):
    aliases = " ".join(f"a{n}: viewer {{ customer {{ id }} }}" for n in range(31))

    body = await api.query(f"{{ {aliases} }}")

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "31 aliases found. Allowed: 30"


async def test_tokens_are_limited(api: Api, ledger: LedgerData):
    body = await api.query("{ viewer { customer { id } } " + "__typename " * 5_000 + "}")

    assert codes(body) == ["BAD_USER_INPUT"]
    assert "more than 5000 tokens" in body["errors"][0]["message"]
