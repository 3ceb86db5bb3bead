"""Spending insights: grouped, converted at stated rates, percentages adding up to 100."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.relay.ids import to_global_id
from ledger.enrich import taxonomy
from ledger.money import format_minor
from ledger.queries.spending import largest_remainder_percents

from .helpers import Api
from .ledger_data import START, AccountData, LedgerData

INSIGHTS = """
query Insights($from: Date!, $to: Date!, $groupBy: InsightGrouping!, $locale: Locale,
               $accounts: [ID!], $currency: String! = "TJS") {
  spendingInsights(from: $from, to: $to, groupBy: $groupBy, locale: $locale,
                   accountIds: $accounts, currency: $currency) {
    from to currency
    total { amount currency }
    groups { key label total { amount currency } count percent }
    rates { base quote rate date source }
    excluded { total { amount currency } count reason }
  }
}
"""
PERIOD = {"from": "2025-01-01", "to": "2025-06-30"}
USD_RATE = Decimal("10.9252")
RUB_RATE = Decimal("0.1289")
FIRST_RUB_RATE = START + timedelta(63)  # the first weekly NBT rate in March


def spending_rows(ledger: LedgerData, account: AccountData):
    """Debits that are spending: not exchanges, not transfers to one's own accounts."""
    own = {a.number_masked for a in ledger.accounts_a}
    for t in account.counted():
        if t["amount_minor"] >= 0 or t["type"] == "CURRENCY_EXCHANGE":
            continue
        if t.get("counterparty_account") in own:
            continue
        yield t


def expected_categories(
    ledger: LedgerData, primary: bool = False
) -> tuple[dict[str, int], dict[str, int], tuple[int, int]]:
    """Per-category totals in TJS diram and counts, and the RUB left without a rate. The
    rows are stored as a bank sends them, not enriched: a bank's key counts under its
    taxonomy code (or that code's primary)."""
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    unconverted, unconverted_count = 0, 0
    for account in ledger.accounts_a:
        per_day: dict[tuple[str, date], list[int]] = defaultdict(list)
        for t in spending_rows(ledger, account):
            key = taxonomy.canonical(t.get("user_category") or t.get("category") or "")
            if primary:
                key = taxonomy.primary_of(key) or "" if key else ""
            per_day[key, t["booking_date"]].append(-t["amount_minor"])
        for (key, day), amounts in per_day.items():
            spent = sum(amounts)
            if account.currency == "RUB" and day < FIRST_RUB_RATE:
                unconverted += spent
                unconverted_count += len(amounts)
                continue
            rate = {"TJS": Decimal(1), "USD": USD_RATE, "RUB": RUB_RATE}[account.currency]
            totals[key] += int((spent * rate).to_integral_value(ROUND_HALF_EVEN))
            counts[key] += len(amounts)
    return totals, counts, (unconverted, unconverted_count)


async def insights(api: Api, group_by: str = "CATEGORY", **variables: object) -> dict:
    body = await api.query(INSIGHTS, {**PERIOD, "groupBy": group_by, **variables})
    assert "errors" not in body, body
    result: dict = body["data"]["spendingInsights"]
    return result


@pytest.mark.parametrize("group_by", ["CATEGORY", "PRIMARY_CATEGORY"])
async def test_category_totals_agree_with_independent_sums(
    api: Api, ledger: LedgerData, group_by: str
):
    result = await insights(api, group_by)

    totals, counts, _ = expected_categories(ledger, primary=group_by == "PRIMARY_CATEGORY")
    assert {g["key"]: g["total"]["amount"] for g in result["groups"]} == {
        k: format_minor(v, "TJS") for k, v in totals.items()
    }
    assert {g["key"]: g["count"] for g in result["groups"]} == counts
    assert result["total"] == {
        "amount": format_minor(sum(totals.values()), "TJS"),
        "currency": "TJS",
    }


@pytest.mark.parametrize("group_by", ["CATEGORY", "PRIMARY_CATEGORY", "MERCHANT", "MONTH"])
async def test_percentages_add_up_to_exactly_100(api: Api, ledger: LedgerData, group_by: str):
    result = await insights(api, group_by)

    percents = [Decimal(g["percent"]) for g in result["groups"]]
    assert sum(percents) == Decimal("100.00")
    assert all(p == p.quantize(Decimal("0.01")) for p in percents)
    total = sum(Decimal(g["total"]["amount"]) for g in result["groups"])
    assert total == Decimal(result["total"]["amount"])
    for group in result["groups"]:
        exact = Decimal(group["total"]["amount"]) * 100 / total
        assert abs(Decimal(group["percent"]) - exact) < Decimal("0.01")


async def test_groups_are_largest_first(api: Api, ledger: LedgerData):
    result = await insights(api, "MERCHANT")

    amounts = [Decimal(g["total"]["amount"]) for g in result["groups"]]
    assert amounts == sorted(amounts, reverse=True)


async def test_spending_without_a_rate_is_excluded_and_flagged(api: Api, ledger: LedgerData):
    result = await insights(api)

    _, _, (unconverted, count) = expected_categories(ledger)
    assert result["excluded"] == [
        {"total": {"amount": format_minor(unconverted, "RUB"), "currency": "RUB"},
         "count": count, "reason": "NO_RATE"},
    ]  # fmt: skip


async def test_rates_are_stated_and_the_official_one_wins(api: Api, ledger: LedgerData):
    result = await insights(api)

    rates = result["rates"]
    assert {(r["base"], r["quote"], r["source"]) for r in rates} == {
        ("USD", "TJS", "NBT"),
        ("RUB", "TJS", "NBT"),
    }
    assert {r["rate"] for r in rates if r["base"] == "USD"} == {"10.9252"}
    assert min(r["date"] for r in rates if r["base"] == "RUB") == FIRST_RUB_RATE.isoformat()


async def test_labels_follow_the_locale(api: Api, ledger: LedgerData):
    english = await insights(api, locale="EN")
    russian = await insights(api)  # the customer's own language
    months = await insights(api, "MONTH", locale="EN")

    labels_en = {g["key"]: g["label"] for g in english["groups"]}
    labels_ru = {g["key"]: g["label"] for g in russian["groups"]}
    assert labels_en["FOOD_AND_DRINK_GROCERIES"] == "Groceries"
    assert labels_ru["FOOD_AND_DRINK_GROCERIES"] == "Продукты"
    assert labels_en["GENERAL_SERVICES_EDUCATION"] == "Education"  # the customer's own
    assert [g["label"] for g in months["groups"]
            if g["key"] == "2025-03"] == ["March 2025"]  # fmt: skip


async def test_another_customers_account_adds_nothing(api: Api, ledger: LedgerData):
    foreign = await insights(api, accounts=[to_global_id("Account", ledger.foreign.id)])
    missing = await insights(api, accounts=[to_global_id("Account", 987654)])

    assert foreign == missing
    assert foreign["groups"] == []
    assert foreign["total"]["amount"] == "0.00"


async def test_reporting_in_another_currency(api: Api, ledger: LedgerData):
    result = await insights(api, currency="USD", accounts=[to_global_id("Account", ledger.usd.id)])

    spent = sum(-t["amount_minor"] for t in spending_rows(ledger, ledger.usd))
    assert result["total"] == {"amount": format_minor(spent, "USD"), "currency": "USD"}
    assert result["rates"] == []


@given(st.lists(st.integers(min_value=0, max_value=10**15), min_size=1, max_size=40))
def test_largest_remainder_shares_add_up_and_stay_close(values: list[int]):
    percents = largest_remainder_percents(values)

    total = sum(values)
    if total == 0:
        assert set(percents) == {Decimal("0.00")}
        return
    assert sum(percents) == Decimal("100.00")
    for value, percent in zip(values, percents, strict=True):
        assert abs(percent - Decimal(value) * 100 / total) < Decimal("0.01")
