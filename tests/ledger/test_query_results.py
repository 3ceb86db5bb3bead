"""The read queries' typed results: frozen rows whose amounts are `Money` in their own
currencies (KWD has three decimals, JPY none), on both databases."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.models import Account, BalanceSnapshot, Card, ServicePayment, Transaction, Transfer
from ledger.money import Money
from ledger.queries import pages, results, rows, spending, statements
from ledger.queries.pages import ServicePaymentCriteria, TransactionCriteria, TransferCriteria
from ledger.queries.windows import Window

from .factories import connected_account

AT = datetime(2025, 3, 10, 8, 30, tzinfo=UTC)
WINDOW = Window(limit=10, descending=True)
ROW_KINDS = [
    results.InstitutionRow,
    results.AccountRow,
    results.BalanceRow,
    results.AccountUpstreamRow,
    results.CardRow,
    results.TransactionRow,
    results.TransferRow,
    results.TransferEventRow,
    results.ServicePaymentRow,
]


def _transaction(conn: int, account: int, n: int, minor: int, balance: int | None, **extra):
    return {
        "connection_id": conn,
        "external_id": f"tx-{n}",
        "account_id": account,
        "status": "BOOKED",
        "booking_date": date(2025, 3, n),
        "amount_minor": minor,
        "currency": "KWD",
        "balance_after_minor": balance,
        "type": "CARD_PAYMENT",
        "payload_hash": "-",
        **extra,
    }


async def _kwd_ledger(session: AsyncSession) -> tuple[int, int]:
    """A KWD account: a JPY card payment, its refund, a USD transfer paid in JPY, a payment."""
    conn, account = await connected_account(session, currency="KWD")
    await session.execute(
        insert(Transaction),
        [
            _transaction(
                conn, account, 1, -1_250, 8_750,
                original_amount_minor=-1_500, original_currency="JPY", fx_rate="0.00083333",
            ),
            _transaction(conn, account, 2, 1_250, 10_000),
            _transaction(conn, account, 3, -5, None, booked_at=AT),
        ],
    )  # fmt: skip
    await session.execute(
        insert(Transfer).values(
            connection_id=conn, external_id="tr-1", account_id=account, direction="OUTBOUND",
            amount_minor=-30_125, currency="KWD", fee_minor=150, fee_currency="USD",
            destination_amount_minor=15_000, destination_currency="JPY", rail="SWIFT",
            status="COMPLETED", initiated_at=AT, payload_hash="-",
        )
    )  # fmt: skip
    await session.execute(
        insert(ServicePayment).values(
            connection_id=conn, external_id="sp-1", account_id=account, provider="Tcell",
            category="mobile", amount_minor=-2_000, currency="KWD", paid_at=AT,
            payload_hash="-",
        )
    )  # fmt: skip
    await session.execute(
        insert(BalanceSnapshot).values(
            account_id=account, type="BOOKED", amount_minor=9_995, currency="KWD", as_of=AT
        )
    )
    await session.execute(
        insert(Card).values(
            connection_id=conn, external_id="card-1", account_id=account, scheme="VISA",
            pan_masked="4111••••1111", status="ACTIVE", payload_hash="-",
        )
    )  # fmt: skip
    return conn, account


@pytest.mark.parametrize("kind", ROW_KINDS, ids=lambda k: k.__name__)
def test_rows_are_frozen_and_carry_no_minor_units(kind: type) -> None:
    if issubclass(kind, tuple):  # a named tuple (TransactionRow): immutable by construction
        names = list(kind._fields)  # type: ignore[attr-defined]
    else:
        assert kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
        names = [f.name for f in dataclasses.fields(kind)]
    assert hasattr(kind, "__slots__")
    assert not [name for name in names if name.endswith("_minor")]


async def test_transactions_carry_money_in_their_currencies(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _, account = await _kwd_ledger(s)
    async with sessions() as s:
        page = await pages.transaction_page(s, TransactionCriteria(account_ids=[account]), WINDOW)
        by_id = await rows.transactions_by_id(s, [t.id for t in page], [account])

    assert [type(t) for t in page] == [results.TransactionRow] * 3
    assert [t.amount for t in page] == [Money(-5, "KWD"), Money(1_250, "KWD"), Money(-1_250, "KWD")]
    assert [t.amount.format() for t in page] == ["-0.005", "1.250", "-1.250"]
    assert [t.balance_after for t in page] == [None, Money(10_000, "KWD"), Money(8_750, "KWD")]
    assert page[2].original_amount == Money(-1_500, "JPY")
    assert page[2].original_amount.format() == "-1500"
    assert page[0].original_amount is None
    assert page[2].fx_rate == "0.00083333"
    assert sorted(by_id, key=lambda t: t.id) == sorted(page, key=lambda t: t.id)


async def test_transfers_payments_balances_and_cards(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await _kwd_ledger(s)
    async with sessions() as s:
        [transfer] = await pages.transfer_page(s, TransferCriteria(account_ids=[account]), WINDOW)
        [payment] = await pages.service_payment_page(
            s, ServicePaymentCriteria(account_ids=[account]), WINDOW
        )
        [balance] = await rows.latest_balances(s, [account])
        [card] = await rows.cards_by_account(s, [account])
        [upstream] = await rows.account_upstreams(s, [account])

    assert transfer.amount == Money(-30_125, "KWD")
    assert transfer.fee == Money(150, "USD")
    assert transfer.destination_amount == Money(15_000, "JPY")
    assert transfer.source_amount is None
    assert transfer.initiated_at == AT
    assert payment.amount == Money(-2_000, "KWD")
    assert payment.paid_at == AT
    assert balance == results.BalanceRow(account, "BOOKED", Money(9_995, "KWD"), AT)
    assert (card.account_id, card.pan_masked) == (account, "4111••••1111")
    assert (upstream.account_id, upstream.connection_id, upstream.external_id) == (
        account,
        conn,
        "acc-1",
    )


async def test_statement_figures_are_money_of_the_account(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _, account = await _kwd_ledger(s)
    async with sessions() as s:
        march = await statements.statement_figures(
            s, account, date(2025, 3, 1), date(2025, 3, 31), booked_only=True
        )
        # The debit and its refund: they cancel out to a zero that shows no sign.
        refund = await statements.statement_figures(
            s, account, date(2025, 3, 1), date(2025, 3, 2), booked_only=True
        )

    assert march.currency == "KWD"
    assert march.opening == Money(10_000, "KWD")
    assert march.debits == Money(1_255, "KWD")
    assert march.credits == Money(1_250, "KWD")
    assert march.closing == Money(9_995, "KWD")
    assert march.bank_reported == Money(9_995, "KWD")
    assert march.reconciled
    assert (refund.debits - refund.credits).format() == "0.000"
    assert refund.closing - refund.opening == Money.zero("KWD")


async def test_spending_summary_is_money_of_the_reporting_currency(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _, account = await _kwd_ledger(s)
        user = (await s.execute(select(Account.user_id))).scalar_one()
    async with sessions() as s:
        summary = await spending.spending_summary(
            s, user, [account], date(2025, 3, 1), date(2025, 3, 31),
            group_by="CATEGORY", currency="KWD",
        )  # fmt: skip
        nothing = await spending.spending_summary(
            s, user, [], date(2025, 3, 1), date(2025, 3, 31), group_by="CATEGORY", currency="JPY"
        )

    assert summary.total == Money(1_255, "KWD")
    assert [(g.key, g.total, g.count) for g in summary.groups] == [("", Money(1_255, "KWD"), 2)]
    assert summary.excluded == ()
    assert nothing.total == Money(0, "JPY")
    assert nothing.total.format() == "0"
    assert nothing.currency == "JPY"
