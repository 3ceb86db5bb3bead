"""SQL statements per request do not grow with the page size: relations are batched."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from graph.relay.ids import to_global_id

from .helpers import Api, counting
from .ledger_data import LedgerData

# Oldest first from 4 January: even the first ten rows have a card, a transfer and a
# service payment, so every loader runs on both page sizes.
TRANSACTIONS = """
query Page($first: Int!) {
  transactions(first: $first, orderBy: BOOKING_DATE_ASC, filter: {from: "2025-01-04"}) {
    edges {
      node {
        id amount { amount currency } bookingDate
        account { id name institution { name } }
        card { id panMasked }
        category { code label source }
        transfer { id rail history { status at } }
        servicePayment { id provider }
      }
    }
  }
}
"""

ACCOUNTS = """
{ accounts { edges { node { id balances { amount { amount } } cards { id } } } } }
"""

NODES = """
query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id ... on Transaction { account { id } } } }
"""


async def run(api: Api, engine: AsyncEngine, query: str, **variables: Any) -> tuple[list[str], Any]:
    token = await api.token()
    with counting(engine) as statements:
        body = await api.query(query, variables, token=token)
    assert "errors" not in body, body["errors"]
    return statements, body["data"]


async def statements_for(api: Api, engine: AsyncEngine, query: str, **variables: Any) -> int:
    return len((await run(api, engine, query, **variables))[0])


def reading(statements: list[str], table: str) -> int:
    """How many statements read `table` as their main table."""
    return sum(1 for s in statements if re.search(rf"\bFROM {table}\b", s))


async def test_transaction_pages_of_10_and_100_cost_the_same_statements(
    api: Api, ledger: LedgerData, engine: AsyncEngine
):
    small, page = await run(api, engine, TRANSACTIONS, first=10)
    large, _ = await run(api, engine, TRANSACTIONS, first=100)

    nodes = [e["node"] for e in page["transactions"]["edges"]]
    assert all(any(n[field] for n in nodes) for field in ("card", "transfer", "servicePayment"))
    assert len(small) == len(large)
    # The page once, then one batch per relation; the account table is read twice: the
    # accounts the consent allows (a subquery of the token check's one statement), and the
    # batch of the page's accounts.
    tables = {
        "ledger_transaction": 1, "account": 2, "institution": 1, "card": 1, "transfer": 1,
        "transfer_event": 1, "service_payment": 1,
    }  # fmt: skip
    assert {t: reading(large, t) for t in tables} == tables


async def test_nested_lists_of_accounts_are_batched(
    api: Api, ledger: LedgerData, engine: AsyncEngine
):
    # The consent check (with the readable accounts), the page, one batch each for balances
    # and cards, and the request's audit row.
    assert await statements_for(api, engine, ACCOUNTS) == 5


async def test_the_token_check_reads_the_readable_accounts_in_its_own_statement(
    api: Api, ledger: LedgerData, engine: AsyncEngine
):
    # No field reads an account: what is left is the token check and the audit row.
    statements, _ = await run(api, engine, "{ viewer { customer { id } } }")

    assert len(statements) == 2
    assert reading(statements[:1], "consent") == reading(statements[:1], "account") == 1
    assert statements[1].startswith("INSERT INTO audit_event")


async def test_nodes_batch_by_type(api: Api, ledger: LedgerData, engine: AsyncEngine):
    few = [to_global_id("Transaction", t["id"]) for t in ledger.wallet.transactions[:2]]
    many = [to_global_id("Transaction", t["id"]) for t in ledger.wallet.transactions[:60]]

    assert await statements_for(api, engine, NODES, ids=few) == await statements_for(
        api, engine, NODES, ids=many
    )
