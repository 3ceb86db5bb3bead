"""Another customer's objects, through the paths test_auth.py does not walk, answer exactly
like ids that were never issued."""

from __future__ import annotations

from typing import Any

import httpx

from graph.relay.ids import to_global_id

from .helpers import Api, consent_of
from .ledger_data import PHONE_B, LedgerData

MISSING = 987654
STATEMENT = """
query S($id: ID!) { statement(accountId: $id, from: "2025-01-01", to: "2025-03-31") { from } }
"""
INSIGHTS = """
query I($ids: [ID!]) {
  spendingInsights(from: "2025-01-01", to: "2025-12-31", accountIds: $ids) {
    total { amount } groups { key count }
  }
}
"""
NODE = "query N($id: ID!) { node(id: $id) { id } }"


def same_answer(a: httpx.Response, b: httpx.Response) -> dict[str, Any]:
    assert a.status_code == b.status_code
    assert a.json() == b.json()
    body: dict[str, Any] = a.json()
    return body


async def test_statement_of_another_customers_account(api: Api, ledger: LedgerData):
    token = await api.token()

    foreign = await api.post(
        STATEMENT, {"id": to_global_id("Account", ledger.foreign.id)}, token=token
    )
    missing = await api.post(STATEMENT, {"id": to_global_id("Account", MISSING)}, token=token)

    body = same_answer(foreign, missing)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_insights_over_another_customers_account(api: Api, ledger: LedgerData):
    token = await api.token()

    foreign = await api.post(
        INSIGHTS, {"ids": [to_global_id("Account", ledger.foreign.id)]}, token=token
    )
    missing = await api.post(INSIGHTS, {"ids": [to_global_id("Account", MISSING)]}, token=token)

    body = same_answer(foreign, missing)
    assert body["data"]["spendingInsights"]["groups"] == []


async def test_node_of_another_customers_consent(api: Api, ledger: LedgerData):
    foreign = consent_of(await api.token(phone=PHONE_B))
    token = await api.token()

    a = await api.post(NODE, {"id": to_global_id("Consent", foreign)}, token=token)
    b = await api.post(NODE, {"id": to_global_id("Consent", MISSING)}, token=token)

    assert same_answer(a, b)["data"] == {"node": None}


async def test_rest_transactions_list_only_the_customers_own(api: Api, ledger: LedgerData):
    headers = {"Authorization": f"Bearer {await api.token()}"}

    response = await api.client.get("/api/v1/alif/transactions?limit=100&offset=0", headers=headers)
    pages = [response.json()]
    while len(seen := [t for p in pages for t in p["transactions"]]) < pages[0]["total_count"]:
        more = await api.client.get(
            f"/api/v1/alif/transactions?limit=100&offset={len(seen)}", headers=headers
        )
        pages.append(more.json())

    foreign = {to_global_id("Transaction", t["id"]) for t in ledger.foreign.transactions}
    own = {to_global_id("Transaction", t["id"]) for a in ledger.accounts_a for t in a.counted()}
    assert {t["id"] for t in seen} == own
    assert not foreign & {t["id"] for t in seen}


async def test_rest_statement_of_an_account_outside_the_consent(api: Api, ledger: LedgerData):
    headers = {"Authorization": f"Bearer {await api.token(account_ids=[ledger.wallet.id])}"}
    params = "?from_date=2025-01-01&to_date=2025-01-31"

    outside = await api.client.get(
        f"/api/v1/alif/accounts/{to_global_id('Account', ledger.usd.id)}/statement{params}",
        headers=headers,
    )
    missing = await api.client.get(
        f"/api/v1/alif/accounts/{to_global_id('Account', MISSING)}/statement{params}",
        headers=headers,
    )

    assert outside.status_code == missing.status_code == 404
    assert {**outside.json(), "request_id": "-"} == {**missing.json(), "request_id": "-"}
