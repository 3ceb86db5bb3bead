"""A list filter naming an object the token may not read (another customer's, outside the
consent, or none at all) answers exactly as for an id that does not exist, and the request's
audit row is `denied` with the ids asked for; readable ids stay `ok`. Every id-taking input
of the schema is covered: these filters here, node/nodes/statement in test_bola_audit.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema, get_named_type

from graph.relay.ids import to_global_id

from .helpers import Api
from .ledger_data import LedgerData

MISSING = 987654
PERIOD = 'from: "2025-01-01", to: "2025-12-31"'

# One request per id filter: (where in the schema, the node type it names, the query).
FILTERS = {
    "TransactionFilter.accountIds": (
        "Account",
        "query Probe($ids: [ID!]) { transactions(filter: {accountIds: $ids}) { totalCount } }",
    ),
    "TransactionFilter.cardIds": (
        "Card",
        "query Probe($ids: [ID!]) { transactions(filter: {cardIds: $ids}) { totalCount } }",
    ),
    "TransferFilter.accountIds": (
        "Account",
        "query Probe($ids: [ID!]) { transfers(filter: {accountIds: $ids}) { totalCount } }",
    ),
    "ServicePaymentFilter.accountIds": (
        "Account",
        "query Probe($ids: [ID!]) { servicePayments(filter: {accountIds: $ids}) { totalCount } }",
    ),
    "Query.spendingInsights(accountIds)": (
        "Account",
        "query Probe($ids: [ID!]) { spendingInsights(" + PERIOD + ", accountIds: $ids) "
        "{ total { amount currency } } }",
    ),
    "Query.remittanceSummary(accountIds)": (
        "Account",
        "query Probe($ids: [ID!]) { remittanceSummary(" + PERIOD + ", accountIds: $ids) "
        "{ total { count } } }",
    ),
    "RecurringFilter.accountIds": (
        "Account",
        "query Probe($ids: [ID!]) { recurringPayments(filter: {accountIds: $ids}) { payee } }",
    ),
    "AccountFilter.institutionIds": (
        "Institution",
        "query Probe($ids: [ID!]) { accounts(filter: {institutionIds: $ids}) { totalCount } }",
    ),
}
# Audited by their own fields' tests (test_bola_audit.py, test_consent_revoke.py,
# test_connection_refresh.py, test_fx_and_remittances.py, test_categories.py).
ELSEWHERE = {
    "Query.node(id)",
    "Query.nodes(ids)",
    "Query.statement(accountId)",
    "Query.statementExport(accountId)",  # tests/graph/test_exports_delivery.py
    "Mutation.consentRevoke(id)",
    "Mutation.connectionRefresh(id)",
    "Mutation.transactionMarkNotDuplicate(id)",
    "Mutation.transactionCategorize(id)",
    "Mutation.categoryRuleDelete(id)",
    "CategoryRuleInput.accountId",
}


def _id_inputs() -> set[str]:
    """Every argument and input field of the schema that takes IDs."""
    schema = build_schema((Path(__file__).parents[2] / "schema.graphql").read_text())
    found = set()
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(kind, GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if get_named_type(field.type).name == "ID":
                    found.add(f"{name}.{field_name}")
        elif isinstance(kind, GraphQLObjectType):
            for field_name, field in kind.fields.items():
                for arg_name, arg in field.args.items():
                    if get_named_type(arg.type).name == "ID":
                        found.add(f"{name}.{field_name}({arg_name})")
    return found


def test_every_id_filter_of_the_schema_is_tested_here_or_elsewhere() -> None:
    assert _id_inputs() == set(FILTERS) | ELSEWHERE


def _foreign(ledger: LedgerData, type_name: str) -> str:
    pk = {
        "Account": ledger.foreign.id,
        "Card": ledger.foreign_card_id,
        "Institution": MISSING,  # institutions are nobody's: only a missing one is refused
    }[type_name]
    return to_global_id(type_name, pk)


def _own(ledger: LedgerData, type_name: str) -> str:
    pk = {
        "Account": ledger.wallet.id,
        "Card": ledger.card_ids[0],
        "Institution": ledger.institution_id,
    }[type_name]
    return to_global_id(type_name, pk)


async def _rows_of(api: Api, query: str, ids: list[str], token: str) -> tuple[dict, list]:
    before = len(await api.audit_rows())
    body = await api.query(query, {"ids": ids}, token=token)
    return body, (await api.audit_rows())[before:]


@pytest.mark.parametrize("where", sorted(FILTERS))
async def test_a_filter_naming_an_unreadable_id_answers_as_missing_and_is_denied(
    api: Api, ledger: LedgerData, where: str
) -> None:
    type_name, query = FILTERS[where]
    foreign, missing = _foreign(ledger, type_name), to_global_id(type_name, MISSING)
    token = await api.token()

    as_missing, _ = await _rows_of(api, query, [missing], token)
    body, rows = await _rows_of(api, query, [foreign], token)

    assert body == as_missing and "errors" not in body
    assert [(r.operation, r.outcome, r.object_ids) for r in rows] == [("Probe", "denied", foreign)]


@pytest.mark.parametrize("where", sorted(FILTERS))
async def test_a_filter_of_readable_ids_stays_ok_and_an_unreadable_one_beside_them_is_named(
    api: Api, ledger: LedgerData, where: str
) -> None:
    type_name, query = FILTERS[where]
    own, foreign = _own(ledger, type_name), _foreign(ledger, type_name)
    token = await api.token()

    alone, rows = await _rows_of(api, query, [own], token)
    assert [r.outcome for r in rows] == ["ok"] and own not in rows[0].object_ids
    both, rows = await _rows_of(api, query, [own, foreign], token)

    assert both == alone  # the unreadable id narrows nothing further
    assert [(r.outcome, r.object_ids.split()) for r in rows] == [("denied", [foreign])]


@pytest.mark.parametrize("where", sorted(w for w, (t, _) in FILTERS.items() if t != "Institution"))
async def test_an_object_outside_the_consent_is_denied_like_another_customers(
    api: Api, ledger: LedgerData, where: str
) -> None:
    type_name, query = FILTERS[where]
    token = await api.token(account_ids=[ledger.wallet.id])
    # The RUB account, or its card: the customer's own, but not consented.
    pk = ledger.rub.id if type_name == "Account" else ledger.card_ids[2]
    outside = to_global_id(type_name, pk)

    as_missing, _ = await _rows_of(api, query, [to_global_id(type_name, MISSING)], token)
    body, rows = await _rows_of(api, query, [outside], token)

    assert body == as_missing
    assert [(r.outcome, r.object_ids) for r in rows] == [("denied", outside)]


async def test_an_accounts_own_transactions_audit_the_filters_ids_too(
    api: Api, ledger: LedgerData
) -> None:
    own = to_global_id("Account", ledger.wallet.id)
    foreign = _foreign(ledger, "Account")
    query = """query Probe($id: ID!, $ids: [ID!]) { node(id: $id) { id ... on Account {
        transactions(filter: {accountIds: $ids}) { totalCount } } } }"""
    token = await api.token()

    body = await api.query(query, {"id": own, "ids": [foreign]}, token=token)

    rows = await api.audit_rows()
    assert body["data"]["node"]["transactions"]["totalCount"] == 0
    assert [(r.outcome, r.object_ids.split()) for r in rows] == [("denied", [own, foreign])]
