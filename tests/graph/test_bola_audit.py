"""Asking for an object the token may not read answers like a missing one, and the request's
audit row says `denied` and names the id asked for (GraphQL node/nodes/statement, REST)."""

from __future__ import annotations

from graph.relay.ids import to_global_id
from ledger.models import AuditEvent

from .helpers import Api
from .ledger_data import LedgerData

NODE = "query Probe($id: ID!) { node(id: $id) { id } }"
NODES = "query Probe($ids: [ID!]!) { nodes(ids: $ids) { id } }"
STATEMENT = """
query Probe($id: ID!) { statement(accountId: $id, from: "2025-01-01", to: "2025-01-31") { from } }
"""
MISSING = 987654


async def only_row(api: Api) -> AuditEvent:
    rows = await api.audit_rows()
    assert len(rows) == 1, rows
    return rows[0]


def foreign_objects(ledger: LedgerData) -> list[str]:
    return [
        to_global_id("Account", ledger.foreign.id),
        to_global_id("Transaction", ledger.foreign.transactions[0]["id"]),
        to_global_id("Card", ledger.foreign_card_id),
        to_global_id("Transfer", ledger.foreign_transfer_id),
        to_global_id("Customer", ledger.user_b),
    ]


async def test_node_of_another_customer_is_audited_as_denied_with_the_id(
    api: Api, ledger: LedgerData
):
    token = await api.token()

    for foreign in foreign_objects(ledger):
        before = len(await api.audit_rows())
        body = await api.query(NODE, {"id": foreign}, token=token)
        rows = (await api.audit_rows())[before:]

        assert body["data"] == {"node": None} and "errors" not in body
        assert [(r.operation, r.outcome, r.object_ids) for r in rows] == [
            ("Probe", "denied", foreign)
        ]
        assert rows[0].object_count == 1


async def test_nodes_record_what_they_returned_and_what_they_refused(api: Api, ledger: LedgerData):
    own = to_global_id("Account", ledger.wallet.id)
    foreign = to_global_id("Account", ledger.foreign.id)
    token = await api.token()

    body = await api.query(NODES, {"ids": [own, foreign, foreign]}, token=token)

    row = await only_row(api)
    assert body["data"] == {"nodes": [{"id": own}, None, None]}
    assert (row.outcome, row.object_ids.split()) == ("denied", [own, foreign])


async def test_an_account_outside_the_consent_is_denied_like_another_customers(
    api: Api, ledger: LedgerData
):
    usd = to_global_id("Account", ledger.usd.id)
    token = await api.token(account_ids=[ledger.wallet.id])

    body = await api.query(STATEMENT, {"id": usd}, token=token)

    row = await only_row(api)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (row.outcome, row.object_ids.split()) == ("denied", [usd])


async def test_a_statement_of_another_customers_account_is_denied_on_graphql_and_rest(
    api: Api, ledger: LedgerData
):
    foreign = to_global_id("Account", ledger.foreign.id)
    token = await api.token()

    await api.query(STATEMENT, {"id": foreign}, token=token)
    rest = await api.client.get(
        f"/api/v1/alif/accounts/{foreign}/statement",
        params={"from_date": "2025-01-01", "to_date": "2025-01-31"},
        headers={"Authorization": f"Bearer {token}"},
    )

    rows = await api.audit_rows()
    assert rest.status_code == 404
    assert [(r.operation, r.outcome, r.object_ids) for r in rows] == [
        ("Probe", "denied", foreign),
        ("rest.account_statement", "denied", foreign),
    ]


async def test_an_id_never_issued_is_recorded_the_same_way(api: Api, ledger: LedgerData):
    missing = to_global_id("Account", MISSING)

    body = await api.query(NODE, {"id": missing})

    row = await only_row(api)
    assert body["data"] == {"node": None}
    assert (row.outcome, row.object_ids) == ("denied", missing)


async def test_reading_ones_own_objects_by_id_stays_ok(api: Api, ledger: LedgerData):
    own = to_global_id("Account", ledger.wallet.id)

    await api.query(NODE, {"id": own})

    row = await only_row(api)
    assert (row.outcome, row.object_ids) == ("ok", own)


async def test_a_type_outside_the_scopes_is_denied_with_the_id(api: Api, ledger: LedgerData):
    transfer = to_global_id("Transfer", ledger.transfer_ids[0])
    token = await api.token(scopes=["accounts:read"])

    await api.query(NODE, {"id": transfer}, token=token)

    row = await only_row(api)
    assert (row.outcome, row.object_ids) == ("denied", transfer)
