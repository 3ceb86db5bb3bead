"""Statements agree with sums computed here, independently, from the generated rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.relay.ids import to_global_id
from ledger.models import BalanceSnapshot, Transaction, table
from ledger.money import format_minor

from .helpers import Api, codes
from .ledger_data import OPENING_WALLET, AccountData, LedgerData

STATEMENT = """
query Statement($id: ID!, $from: Date!, $to: Date!, $booked: Boolean!) {
  statement(accountId: $id, from: $from, to: $to, bookedOnly: $booked) {
    from to currency bookedOnly balanced reconciled transactionCount
    openingBalance { amount currency }
    closingBalance { amount }
    totalDebits { amount }
    totalCredits { amount }
    bankReportedBalance { amount }
    transactions(first: 100) { edges { node { id bookingDate } } pageInfo { hasNextPage } }
  }
}
"""

ACCOUNT_STATEMENT = """
query Statement($id: ID!, $from: Date!, $to: Date!) {
  node(id: $id) {
    ... on Account {
      statement(from: $from, to: $to) {
        openingBalance { amount currency } closingBalance { amount } totalDebits { amount }
        totalCredits { amount } transactionCount balanced
      }
    }
  }
}
"""

PERIODS = [
    (date(2025, 1, 1), date(2025, 1, 31)),
    (date(2025, 2, 15), date(2025, 3, 31)),
    (date(2025, 4, 5), date(2025, 4, 5)),
    (date(2025, 1, 1), date(2025, 6, 30)),
    (date(2024, 12, 1), date(2024, 12, 31)),  # before the ledger's first row
    (date(2025, 7, 1), date(2025, 7, 31)),  # after its last
]


def expected(
    account: AccountData, held_before: int, date_from: date, date_to: date, *, booked_only: bool
) -> dict[str, Any]:
    """The statement from first principles: what was held before the ledger began, plus
    every booked amount since."""
    counted = account.counted()
    booked = [t for t in counted if t["status"] == "BOOKED"]
    shown = booked if booked_only else counted
    in_period = [t for t in shown if date_from <= t["booking_date"] <= date_to]
    opening = held_before + sum(t["amount_minor"] for t in booked if t["booking_date"] < date_from)
    net = sum(t["amount_minor"] for t in in_period)
    money = lambda minor: format_minor(minor, account.currency)  # noqa: E731
    return {
        "openingBalance": money(opening),
        "closingBalance": money(opening + net),
        "totalDebits": money(-sum(t["amount_minor"] for t in in_period if t["amount_minor"] < 0)),
        "totalCredits": money(sum(t["amount_minor"] for t in in_period if t["amount_minor"] > 0)),
        "transactionCount": len(in_period),
        # The first page of the statement's lines: oldest first.
        "ids": [
            to_global_id("Transaction", t["id"])
            for t in sorted(in_period, key=lambda t: (t["booking_date"], t["id"]))[:100]
        ],
    }


def observed(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        "openingBalance": statement["openingBalance"]["amount"],
        "closingBalance": statement["closingBalance"]["amount"],
        "totalDebits": statement["totalDebits"]["amount"],
        "totalCredits": statement["totalCredits"]["amount"],
        "transactionCount": statement["transactionCount"],
        "ids": [e["node"]["id"] for e in statement["transactions"]["edges"]],
    }


async def statement(api: Api, account_id: int, date_from: date, date_to: date, booked: bool = True):
    variables = {
        "id": to_global_id("Account", account_id),
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "booked": booked,
    }
    return await api.query(STATEMENT, variables)


@pytest.mark.parametrize(("date_from", "date_to"), PERIODS)
async def test_statement_agrees_with_independent_sums(
    api: Api, ledger: LedgerData, date_from: date, date_to: date
):
    body = await statement(api, ledger.wallet.id, date_from, date_to)

    result = body["data"]["statement"]
    assert observed(result) == expected(
        ledger.wallet, OPENING_WALLET, date_from, date_to, booked_only=True
    )
    assert result["balanced"] is True
    assert result["currency"] == "TJS"
    assert result["openingBalance"]["currency"] == "TJS"


async def test_statement_of_a_foreign_currency_account(api: Api, ledger: LedgerData):
    body = await statement(api, ledger.usd.id, date(2025, 3, 1), date(2025, 4, 30))

    result = body["data"]["statement"]
    assert observed(result) == expected(
        ledger.usd, 200_00, date(2025, 3, 1), date(2025, 4, 30), booked_only=True
    )
    assert result["balanced"] is True


async def test_statement_transactions_are_oldest_first(api: Api, ledger: LedgerData):
    body = await statement(api, ledger.wallet.id, date(2025, 1, 1), date(2025, 1, 31))

    days = [e["node"]["bookingDate"] for e in body["data"]["statement"]["transactions"]["edges"]]
    assert days == sorted(days)


async def test_bank_reported_balance_is_compared_when_taken_after_the_last_booking(
    api: Api, ledger: LedgerData
):
    whole = await statement(api, ledger.wallet.id, date(2025, 1, 1), date(2025, 6, 30))
    january = await statement(api, ledger.wallet.id, date(2025, 1, 1), date(2025, 1, 31))

    closing = format_minor(ledger.wallet.balance, "TJS")
    assert whole["data"]["statement"]["bankReportedBalance"] == {"amount": closing}
    assert whole["data"]["statement"]["closingBalance"] == {"amount": closing}
    assert january["data"]["statement"]["bankReportedBalance"] is None


async def test_a_bank_balance_that_disagrees_is_not_balanced(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions() as session, session.begin():
        await session.execute(
            insert(table(BalanceSnapshot)).values(
                account_id=ledger.wallet.id,
                type="BOOKED",
                amount_minor=ledger.wallet.balance + 1,
                currency="TJS",
                as_of=datetime(2025, 6, 30, 18, 30, tzinfo=UTC),
            )
        )

    body = await statement(api, ledger.wallet.id, date(2025, 6, 1), date(2025, 6, 30))

    result = body["data"]["statement"]
    assert result["bankReportedBalance"] == {
        "amount": format_minor(ledger.wallet.balance + 1, "TJS")
    }
    assert result["balanced"] is False


async def test_an_amount_that_breaks_the_running_balance_is_not_balanced(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    january = [t for t in ledger.wallet.counted() if t["booking_date"].month == 1]
    middle = january[len(january) // 2]
    tx = table(Transaction)
    async with sessions() as session, session.begin():
        await session.execute(
            update(tx)
            .where(tx.c.id == middle["id"])
            .values(amount_minor=middle["amount_minor"] - 1)
        )

    body = await statement(api, ledger.wallet.id, date(2025, 1, 1), date(2025, 1, 31))

    assert body["data"]["statement"]["balanced"] is False


async def test_booked_only_false_adds_the_pending_rows(api: Api, ledger: LedgerData):
    body = await statement(api, ledger.wallet.id, date(2025, 6, 1), date(2025, 6, 30), booked=False)

    result = body["data"]["statement"]
    assert observed(result) == expected(
        ledger.wallet, OPENING_WALLET, date(2025, 6, 1), date(2025, 6, 30), booked_only=False
    )
    assert result["bookedOnly"] is False
    assert result["balanced"] is True


async def test_account_statement_field_equals_the_root_field(api: Api, ledger: LedgerData):
    variables = {
        "id": to_global_id("Account", ledger.wallet.id),
        "from": "2025-02-01",
        "to": "2025-02-28",
    }
    nested = await api.query(ACCOUNT_STATEMENT, variables)
    root = await statement(api, ledger.wallet.id, date(2025, 2, 1), date(2025, 2, 28))

    fields = nested["data"]["node"]["statement"]
    assert fields == {k: root["data"]["statement"][k] for k in fields}


async def test_another_customers_account_looks_like_a_missing_one(api: Api, ledger: LedgerData):
    token = await api.token()
    variables = {"from": "2025-01-01", "to": "2025-01-31", "booked": True}

    foreign = await api.query(
        STATEMENT, {**variables, "id": to_global_id("Account", ledger.foreign.id)}, token=token
    )
    missing = await api.query(
        STATEMENT, {**variables, "id": to_global_id("Account", 987654)}, token=token
    )

    assert foreign == missing
    assert codes(foreign) == ["NOT_FOUND"]
    assert foreign["data"] == {"statement": None}
