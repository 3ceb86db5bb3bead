"""Every gated field, each scope missing in turn: null, exactly one FORBIDDEN error naming
the scope, and not one read more than the same query without that field.

(The root fields are in test_auth.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.auth.scopes import ALL_SCOPES
from graph.relay.ids import to_global_id

from .helpers import Api, counting
from .ledger_data import LedgerData

ACCOUNT = "query Q($id: ID!) { node(id: $id) { ... on Account { id FIELD } } }"
STATEMENT = (
    'query Q($id: ID!) { statement(accountId: $id, from: "2025-01-01", to: "2025-01-31") '
    "{ from FIELD } }"
)
CARD = "{ cards(first: 1) { edges { node { id FIELD } } } }"
TX = "{ transactions(first: 1) { edges { node { id FIELD } } } }"
PAYMENT = "{ servicePayments(first: 1) { edges { node { id FIELD } } } }"
TRANSFER = "{ transfers(first: 1) { edges { node { id FIELD } } } }"


def first(root: str, field: str) -> list[str | int]:
    """The path of `field` in the first node of the list `root`."""
    return [root, "edges", 0, "node", field]


NESTED = [
    ("balances:read", ACCOUNT, "balances { type }", ["node", "balances"]),
    ("balances:read", ACCOUNT, "liveBalances { type }", ["node", "liveBalances"]),
    ("cards:read", ACCOUNT, "cards { id }", ["node", "cards"]),
    ("transactions:read", ACCOUNT, "transactions { edges { cursor } }", ["node", "transactions"]),
    (
        "statements:read",
        ACCOUNT,
        'statement(from: "2025-01-01", to: "2025-01-31") { from }',
        ["node", "statement"],
    ),
    ("accounts:read", STATEMENT, "account { id }", ["statement", "account"]),
    ("accounts:read", CARD, "account { id }", first("cards", "account")),
    ("transactions:read", CARD, "transactions { totalCount }", first("cards", "transactions")),
    ("accounts:read", TX, "account { id }", first("transactions", "account")),
    ("cards:read", TX, "card { id }", first("transactions", "card")),
    ("transfers:read", TX, "transfer { id }", first("transactions", "transfer")),
    ("payments:read", TX, "servicePayment { id }", first("transactions", "servicePayment")),
    ("transactions:read", PAYMENT, "transaction { id }", first("servicePayments", "transaction")),
    ("accounts:read", PAYMENT, "account { id }", first("servicePayments", "account")),
    ("accounts:read", TRANSFER, "account { id }", first("transfers", "account")),
]  # fmt: skip


def at(data: Any, path: list[str | int]) -> Any:
    for step in path:
        data = data[step]
    return data


async def statements_of(
    api: Api, engine: AsyncEngine, template: str, field: str, variables: dict[str, Any], token: str
) -> tuple[dict[str, Any], list[str]]:
    with counting(engine) as statements:
        body = await api.query(template.replace("FIELD", field), variables, token=token)
    return body, sorted(statements)


@pytest.mark.parametrize(
    ("scope", "template", "field", "path"),
    NESTED,
    ids=[f"{c[0]}-{c[3][-1]}-in-{c[3][0]}" for c in NESTED],
)
async def test_a_nested_field_outside_the_scopes_is_null_with_one_error_and_no_read(
    api: Api,
    ledger: LedgerData,
    engine: AsyncEngine,
    scope: str,
    template: str,
    field: str,
    path: list[str | int],
):
    token = await api.token(scopes=[s for s in ALL_SCOPES if s != scope])
    variables = {"id": to_global_id("Account", ledger.wallet.id)} if "$id" in template else {}

    body, with_field = await statements_of(api, engine, template, field, variables, token)
    _, without_field = await statements_of(api, engine, template, "", variables, token)

    assert at(body["data"], path) is None
    assert [(e["message"], e["path"], e["extensions"]) for e in body["errors"]] == [
        (
            f"This needs the consent scope {scope}.",
            path,
            {"code": "FORBIDDEN", "scope": scope},
        )
    ]
    assert with_field == without_field


# The cases where the field, allowed, reads rows of its own. Not: live balances (the bank),
# a statement's account (its row was read for the statement), and the newest transaction's
# transfer and service payment (it has none).
READING = [
    c
    for c in NESTED
    if c[3][-1] not in ("liveBalances", "transfer", "servicePayment") and c[3][0] != "statement"
]


@pytest.mark.parametrize(
    ("scope", "template", "field", "path"),
    READING,
    ids=[f"{c[0]}-{c[3][-1]}-in-{c[3][0]}" for c in READING],
)
async def test_with_the_scope_the_same_field_does_read(
    api: Api,
    ledger: LedgerData,
    engine: AsyncEngine,
    scope: str,
    template: str,
    field: str,
    path: list[str | int],
):
    """The comparison above would notice a read: with the scope, there is one."""
    token = await api.token()
    variables = {"id": to_global_id("Account", ledger.wallet.id)} if "$id" in template else {}

    body, with_field = await statements_of(api, engine, template, field, variables, token)
    _, without_field = await statements_of(api, engine, template, "", variables, token)

    assert "errors" not in body
    assert len(with_field) > len(without_field)


NODE = "query N($id: ID!) { node(id: $id) { id } }"
LEDGER_DATA = re.compile(
    r"\bFROM (account|ledger_transaction|card|transfer|service_payment|balance_snapshot)\b"
)


@pytest.mark.parametrize(
    ("scope", "type_name"),
    [
        ("accounts:read", "Account"),
        ("cards:read", "Card"),
        ("transactions:read", "Transaction"),
        ("transfers:read", "Transfer"),
        ("payments:read", "ServicePayment"),
    ],
)
async def test_node_of_each_gated_type_is_forbidden_without_a_read(
    api: Api, ledger: LedgerData, engine: AsyncEngine, scope: str, type_name: str
):
    pk = {
        "Account": ledger.wallet.id,
        "Card": ledger.card_ids[0],
        "Transaction": ledger.wallet.transactions[0]["id"],
        "Transfer": ledger.transfer_ids[0],
        "ServicePayment": ledger.payment_ids[0],
    }[type_name]
    token = await api.token(scopes=[s for s in ALL_SCOPES if s != scope])

    with counting(engine) as statements:
        body = await api.query(NODE, {"id": to_global_id(type_name, pk)}, token=token)

    assert body["data"] == {"node": None}
    assert [e["extensions"] for e in body["errors"]] == [{"code": "FORBIDDEN", "scope": scope}]
    # Only the token check (whose one statement reads the ids of the accounts the consent
    # allows) touched the ledger's tables.
    check, *rest = statements
    assert re.search(r"\bFROM consent\b", check)
    assert not [s for s in rest if LEDGER_DATA.search(s)]
