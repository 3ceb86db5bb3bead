"""Categories over GraphQL: the taxonomy, a transaction's category with its source and
confidence, the customer's override and rules (scope categories:write, typed errors,
another customer's objects answering like missing ones, audited), recurring streams, and
spending insights without own-account transfers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.scopes import ALL_SCOPES, CATEGORIES_WRITE
from graph.relay.ids import to_global_id
from ledger.enrich import pipeline, taxonomy
from ledger.models import Transaction, table

from .helpers import Api, codes
from .ledger_data import LedgerData

TX = table(Transaction)
CATEGORY = "category { code primary label(locale: EN) source confidence }"
NODE = "query N($id: ID!) { node(id: $id) { ... on Transaction { id " + CATEGORY + " } } }"
CATEGORIZE = (
    "mutation C($id: ID!, $code: String) { transactionCategorize(id: $id, code: $code) { "
    "__typename ... on TransactionCategorizeSuccess { transaction { id " + CATEGORY + " } } "
    "... on CategoryError { code message field } } }"
)
CREATE = (
    "mutation R($input: CategoryRuleInput!) { categoryRuleCreate(input: $input) { __typename "
    "... on CategoryRuleCreateSuccess { rule { id text priority category { code source } "
    "minAmount { amount currency } } } ... on CategoryError { code message field } } }"
)
DELETE = (
    "mutation D($id: ID!) { categoryRuleDelete(id: $id) { __typename "
    "... on CategoryRuleDeleteSuccess { deletedId } ... on CategoryError { code } } }"
)
RULES = "{ categoryRules(first: 50) { totalCount edges { node { id text } } } }"


@pytest.fixture
async def enriched(ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]) -> LedgerData:
    """The ledger's rows as a sync leaves them: enriched."""
    async with sessions.begin() as s:
        await pipeline.enrich_stored(s, await pipeline.account_ids_of(s, None))
    return ledger


def _tx_id(ledger: LedgerData, index: int = 0) -> str:
    return to_global_id("Transaction", ledger.wallet.transactions[index]["id"])


async def test_the_taxonomy_in_every_locale(api: Api, enriched: LedgerData) -> None:
    for locale, index in (("RU", 0), ("TG", 1), ("UZ", 2), ("EN", 3)):
        body = await api.query(
            "query C($l: Locale) { categories(locale: $l) { code primary label primaryLabel } }",
            {"l": locale},
        )
        found = body["data"]["categories"]
        assert [c["code"] for c in found] == list(taxonomy.DETAILED)
        for c in found:
            assert c["label"] == taxonomy.DETAILED[c["code"]][index]
            assert c["primaryLabel"] == taxonomy.PRIMARY[c["primary"]][index]


async def test_enriched_transactions_carry_code_primary_source_and_confidence(
    api: Api, enriched: LedgerData
) -> None:
    body = await api.query("{ transactions(first: 100) { edges { node { " + CATEGORY + " } } } }")
    categories = [e["node"]["category"] for e in body["data"]["transactions"]["edges"]]
    assert categories and all(c is not None for c in categories)
    for c in categories:
        assert taxonomy.primary_of(c["code"]) == c["primary"]
        assert 0 < c["confidence"] <= 100
        assert c["source"] in {"USER", "RULE", "LINK", "BANK", "MCC", "TYPE", "MERCHANT", "TEXT"}


async def test_an_override_wins_and_can_be_removed(api: Api, enriched: LedgerData) -> None:
    tx = _tx_id(enriched, 3)
    before = (await api.query(NODE, {"id": tx}))["data"]["node"]["category"]

    body = await api.query(CATEGORIZE, {"id": tx, "code": "TRAVEL_LODGING"})
    shown = body["data"]["transactionCategorize"]["transaction"]["category"]
    assert shown == {"code": "TRAVEL_LODGING", "primary": "TRAVEL", "label": "Lodging",
                     "source": "USER", "confidence": 100}  # fmt: skip
    assert (await api.query(NODE, {"id": tx}))["data"]["node"]["category"] == shown

    await api.query(CATEGORIZE, {"id": tx, "code": None})
    assert (await api.query(NODE, {"id": tx}))["data"]["node"]["category"] == before


async def test_categorize_refusals_are_typed_and_another_customers_row_is_missing(
    api: Api, enriched: LedgerData
) -> None:
    unknown = await api.query(CATEGORIZE, {"id": _tx_id(enriched), "code": "groceries"})
    assert unknown["data"]["transactionCategorize"]["code"] == "UNKNOWN_CATEGORY"

    foreign = to_global_id("Transaction", enriched.foreign.transactions[0]["id"])
    missing = to_global_id("Transaction", 987654321)
    answers = [
        (await api.query(CATEGORIZE, {"id": i, "code": "TRAVEL_LODGING"}))["data"]
        for i in (foreign, missing)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["transactionCategorize"]["code"] == "NOT_FOUND"
    rows = await api.audit_rows()
    assert (rows[-2].outcome, rows[-2].object_ids) == ("denied", foreign)
    assert (rows[-1].outcome, rows[-1].object_ids) == ("denied", missing)


async def test_writes_need_the_categories_scope(api: Api, enriched: LedgerData) -> None:
    token = await api.token(scopes=[s for s in ALL_SCOPES if s != CATEGORIES_WRITE])
    for query, variables in (
        (CATEGORIZE, {"id": _tx_id(enriched), "code": "TRAVEL_LODGING"}),
        (CREATE, {"input": {"category": "TRAVEL_LODGING", "text": "hotel"}}),
        (DELETE, {"id": to_global_id("CategoryRule", 1)}),
    ):
        body = await api.query(query, variables, token=token)
        assert codes(body) == ["FORBIDDEN"]
        assert next(iter(body["data"].values())) is None


async def test_a_rule_recategorizes_at_once_and_its_deletion_falls_back(
    api: Api, enriched: LedgerData, sessions: async_sessionmaker[AsyncSession]
) -> None:
    merchant = next(
        t["merchant_name"] for t in enriched.wallet.transactions if t.get("merchant_name")
    )
    body = await api.query(
        CREATE, {"input": {"category": "ENTERTAINMENT_EVENTS", "text": merchant.upper()}}
    )
    rule = body["data"]["categoryRuleCreate"]["rule"]
    assert rule["category"] == {"code": "ENTERTAINMENT_EVENTS", "source": "RULE"}

    async with sessions() as s:
        found = (
            await s.execute(
                select(TX.c.merchant_name, TX.c.user_category, TX.c.rule_category).where(
                    TX.c.account_id == enriched.wallet.id
                )
            )
        ).all()
    mine = [r for r in found if r.merchant_name == merchant]
    assert mine and all(r.rule_category == "ENTERTAINMENT_EVENTS" for r in mine)
    listed = (await api.query(RULES))["data"]["categoryRules"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["id"] == rule["id"]

    deleted = await api.query(DELETE, {"id": rule["id"]})
    assert deleted["data"]["categoryRuleDelete"] == {
        "__typename": "CategoryRuleDeleteSuccess", "deletedId": rule["id"]
    }  # fmt: skip
    async with sessions() as s:
        left = (await s.execute(select(TX.c.id).where(TX.c.rule_category.is_not(None)))).all()
    assert left == []
    again = await api.query(DELETE, {"id": rule["id"]})
    assert again["data"]["categoryRuleDelete"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("rule_input", "field"),
    [
        ({"category": "TRAVEL_LODGING"}, None),  # no condition
        ({"category": "TRAVEL_LODGING", "text": "12 34"}, None),  # no letters: no condition
        ({"category": "TRAVEL_LODGING", "minAmount": "10"}, "currency"),
        ({"category": "TRAVEL_LODGING", "minAmount": "10.001", "currency": "TJS"}, "minAmount"),
        ({"category": "TRAVEL_LODGING", "minAmount": "9", "maxAmount": "1", "currency": "TJS"},
         "minAmount"),
        ({"category": "TRAVEL_LODGING", "mcc": "55"}, "mcc"),
        ({"category": "TRAVEL_LODGING", "mcc": "5411", "currency": "XXX"}, "currency"),
    ],
)  # fmt: skip
async def test_invalid_rules_are_typed_errors(
    api: Api, enriched: LedgerData, rule_input: dict, field: str | None
) -> None:
    body = await api.query(CREATE, {"input": rule_input})
    answer = body["data"]["categoryRuleCreate"]
    assert (answer["code"], answer["field"]) == ("INVALID_RULE", field)


async def test_rules_of_another_customer_or_account_are_missing(
    api: Api, enriched: LedgerData
) -> None:
    foreign_account = to_global_id("Account", enriched.foreign.id)
    body = await api.query(
        CREATE, {"input": {"category": "TRAVEL_LODGING", "accountId": foreign_account}}
    )
    assert body["data"]["categoryRuleCreate"]["code"] == "NOT_FOUND"
    assert (await api.audit_rows())[-1].outcome == "denied"

    created = await api.query(CREATE, {"input": {"category": "TRAVEL_LODGING", "text": "hotel"}})
    rule_id = created["data"]["categoryRuleCreate"]["rule"]["id"]
    from .ledger_data import PHONE_B

    other = await api.token(phone=PHONE_B)
    assert (await api.query(RULES, token=other))["data"]["categoryRules"]["totalCount"] == 0
    node = await api.query(
        "query N($id: ID!) { node(id: $id) { id } }", {"id": rule_id}, token=other
    )
    assert node["data"]["node"] is None
    refused = await api.query(DELETE, {"id": rule_id}, token=other)
    assert refused["data"]["categoryRuleDelete"]["code"] == "NOT_FOUND"
    assert ((await api.audit_rows())[-1].outcome, (await api.audit_rows())[-1].object_ids) == (
        "denied",
        rule_id,
    )
    assert (await api.query(RULES))["data"]["categoryRules"]["totalCount"] == 1


async def test_recurring_payments_of_the_consented_accounts(api: Api, enriched: LedgerData) -> None:
    query = (
        "query R($f: RecurringFilter) { recurringPayments(filter: $f) { payee direction "
        "frequency status lastDate nextExpectedDate averageAmount { amount currency } "
        "category { code } transactions { id } } }"
    )
    every = (await api.query(query, {"f": {"asOf": "2025-07-01"}}))["data"]["recurringPayments"]
    assert every, "the wallet's remittances and service payments recur"
    assert {s["direction"] for s in every} <= {"INFLOW", "OUTFLOW"}
    inflows = await api.query(query, {"f": {"asOf": "2025-07-01", "direction": "INFLOW"}})
    assert [s for s in every if s["direction"] == "INFLOW"] == inflows["data"]["recurringPayments"]
    foreign = await api.query(
        query, {"f": {"accountIds": [to_global_id("Account", enriched.foreign.id)]}}
    )
    assert foreign["data"]["recurringPayments"] == []


async def test_a_debit_known_as_an_own_account_transfer_is_not_spending(
    api: Api, enriched: LedgerData
) -> None:
    query = (
        'query S { spendingInsights(from: "2025-01-01", to: "2025-06-30", '
        "groupBy: PRIMARY_CATEGORY) { total { amount } groups { key percent } } }"
    )
    before = (await api.query(query))["data"]["spendingInsights"]
    debit = next(
        t for t in enriched.wallet.counted()
        if t["amount_minor"] < 0 and t["type"] == "CARD_PAYMENT"
        and "2025-01-01" <= t["booking_date"].isoformat() <= "2025-06-30"
    )  # fmt: skip
    await api.query(
        CATEGORIZE,
        {"id": to_global_id("Transaction", debit["id"]), "code": "TRANSFER_OUT_OWN_ACCOUNT"},
    )

    after = (await api.query(query))["data"]["spendingInsights"]
    dropped = Decimal(before["total"]["amount"]) - Decimal(after["total"]["amount"])
    assert dropped == Decimal(-debit["amount_minor"]) / 100
    assert sum(Decimal(g["percent"]) for g in after["groups"]) == Decimal("100.00")
    assert set(g["key"] for g in after["groups"]) <= set(taxonomy.PRIMARY) | {""}


async def test_precedence_user_over_rule_over_the_categorizer(
    api: Api, enriched: LedgerData
) -> None:
    """On both databases, through the API: each layer, added, takes over; removed, gives
    the one below back."""
    row = next(
        t
        for t in enriched.wallet.transactions
        if t.get("merchant_name") and not t.get("user_category")
    )
    tx = to_global_id("Transaction", row["id"])

    def shown(body: dict) -> tuple[str, str]:
        category = body["data"]["node"]["category"]
        return category["code"], category["source"]

    machine = shown(await api.query(NODE, {"id": tx}))
    assert machine[1] in {"BANK", "MCC", "TYPE", "MERCHANT", "TEXT"}
    rule = await api.query(
        CREATE, {"input": {"category": "PERSONAL_CARE_OTHER", "text": row["merchant_name"]}}
    )
    assert shown(await api.query(NODE, {"id": tx})) == ("PERSONAL_CARE_OTHER", "RULE")
    await api.query(CATEGORIZE, {"id": tx, "code": "TRAVEL_OTHER"})
    assert shown(await api.query(NODE, {"id": tx})) == ("TRAVEL_OTHER", "USER")
    await api.query(CATEGORIZE, {"id": tx, "code": None})
    assert shown(await api.query(NODE, {"id": tx})) == ("PERSONAL_CARE_OTHER", "RULE")
    await api.query(DELETE, {"id": rule["data"]["categoryRuleCreate"]["rule"]["id"]})
    assert shown(await api.query(NODE, {"id": tx})) == machine
