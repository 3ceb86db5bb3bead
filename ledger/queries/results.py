"""The typed rows the read queries return: one immutable record (a frozen dataclass, a named
tuple for transactions) per kind of row.

Money fields are `Money`, never bare minor units, so a reader cannot pair an amount with the
wrong currency. Each kind has a `Shape`: the columns it is read from, in order, and the
function building it from them. Pages are the hot path, so a row is built straight from the
result tuple, with no name lookups per field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from inspect import signature
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import Column, FromClause, Select, Table
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import (
    Account,
    BalanceSnapshot,
    Card,
    Connection,
    Institution,
    ServicePayment,
    Transaction,
    TransactionRevision,
    Transfer,
    TransferEvent,
    table,
)
from ledger.money import Money

RowT = TypeVar("RowT")
# A named tuple built from its values in one step, without its generated __new__'s call.
_new_tuple = tuple.__new__


@dataclass(frozen=True, slots=True)
class Shape(Generic[RowT]):
    """How one kind of row is read: `build(*values of columns)`."""

    columns: tuple[Column[Any], ...]
    build: Callable[..., RowT]

    @classmethod
    def named(cls, source: Table, build: Callable[..., RowT]) -> Shape[RowT]:
        """`source`'s columns named by `build`'s parameters (a trailing "_" dropped, as in
        `type_`), in their order: a row kind itself, or a function joining amount and
        currency columns into `Money`."""
        names = (p.rstrip("_") for p in signature(build).parameters)
        return cls(tuple(source.c[name] for name in names), build)

    def from_(self, source: FromClause) -> tuple[Any, ...]:
        """The same columns, read from a subquery of their table."""
        return tuple(source.c[c.name] for c in self.columns)


async def fetch(
    session: AsyncSession,
    stmt: Select[Any],
    shape: Shape[RowT],
    parameters: dict[str, Any] | None = None,
) -> list[RowT]:
    """`stmt`'s rows as `shape`'s kind; `stmt` selects `shape.columns` (or their copies)."""
    build = shape.build
    return [build(*values) for values in (await session.execute(stmt, parameters)).all()]


def _money(minor: int | None, currency: str | None) -> Money | None:
    return None if minor is None or currency is None else Money(minor, currency)


# --- reference data and accounts ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstitutionRow:
    id: int
    code: str
    name: str
    country: str
    bic: str | None


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    institution_id: int
    type: str
    name: str
    number_masked: str
    currency: str


@dataclass(frozen=True, slots=True)
class BalanceRow:
    """A balance snapshot as the bank reported it."""

    account_id: int
    type: str
    amount: Money
    as_of: datetime


@dataclass(frozen=True, slots=True)
class AccountUpstreamRow:
    """What it takes to ask the bank about an account live: its upstream id and its
    connection's provider, URL, bank id and encrypted credentials."""

    account_id: int
    external_id: str
    connection_id: int
    provider: str
    base_url: str
    bank_id: str
    credentials_encrypted: bytes


@dataclass(frozen=True, slots=True)
class CardRow:
    """A card linked to an account: consent is given per account, so no query reads a card
    linked to none."""

    id: int
    account_id: int
    scheme: str
    pan_masked: str
    holder_name: str | None
    expires_on: str | None
    status: str


# --- movements of money ---------------------------------------------------------------------


class TransactionRow(NamedTuple):
    """A transaction. `amount` is signed (debits negative); `balance_after` is the booked
    balance right after it, in the same currency; `original_amount` is the amount before
    conversion, `fx_rate` the exact rate as the bank gave it.

    A named tuple, not a frozen dataclass like the other kinds: pages build thousands, and a
    frozen dataclass's __init__ sets its 37 fields one `object.__setattr__` at a time, about
    6x the cost of building the one tuple."""

    id: int
    account_id: int
    status: str
    booking_date: date
    value_date: date | None
    amount: Money
    balance_after: Money | None
    type: str
    description: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    counterparty_bank: str | None
    counterparty_country: str | None
    merchant_name: str | None
    mcc: str | None
    category: str | None  # the bank's own key
    category_source: str | None
    user_category: str | None  # the customer's override
    # Enrichment (ledger/enrich/): the customer's rule's code, the categorizer's verdict.
    rule_category: str | None
    auto_category: str | None
    auto_category_source: str | None
    category_confidence: int | None
    original_amount: Money | None
    fx_rate: str | None
    card_id: int | None
    transfer_id: int | None
    service_payment_id: int | None
    replaces_id: int | None
    updated_at: datetime
    # The bank stopped listing this booked row: it no longer counts (see its revisions).
    removed_at: datetime | None
    # A later copy of the same real payment (`ledger.enrich.duplicates`): its original,
    # the score (an exact decimal string, 0..1) and the rule that matched.
    duplicate_of_id: int | None = None
    duplicate_score: str | None = None
    duplicate_rule: str | None = None
    # One leg of a move between the customer's own accounts (`ledger.enrich.own_transfers`).
    internal_transfer_leg_id: int | None = None
    internal_transfer_rule: str | None = None


@dataclass(frozen=True, slots=True)
class RevisionRow:
    """One step of a booked transaction's history: what the row was BEFORE it (`kind`
    CHANGED: the bank changed a booked fact; REMOVED: it stopped listing the row;
    RESTORED: it listed the row again)."""

    id: int
    transaction_id: int
    sync_run_id: int | None
    kind: str
    recorded_at: datetime
    status: str
    account_id: int
    booking_date: date
    booked_at: datetime | None
    amount: Money
    balance_after: Money | None
    counterparty_name: str | None
    counterparty_account: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A transfer; `fee`, `destination_amount` and `source_amount` carry their own
    currencies."""

    id: int
    account_id: int
    direction: str
    amount: Money
    fee: Money | None
    destination_amount: Money | None
    source_amount: Money | None
    fx_rate: str | None
    rail: str
    corridor: str | None
    counterparty_name: str | None
    counterparty_account: str | None
    counterparty_country: str | None
    reference: str | None
    status: str
    initiated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class TransferEventRow:
    transfer_id: int
    status: str
    at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class ServicePaymentRow:
    id: int
    account_id: int
    provider: str
    category: str
    service_account_masked: str | None
    amount: Money
    paid_at: datetime
    autopay: bool


# --- shapes ---------------------------------------------------------------------------------

ACCOUNTS = table(Account)
BALANCES = table(BalanceSnapshot)
CONNECTIONS = table(Connection)
TX = table(Transaction)
TRANSFERS = table(Transfer)
PAYMENTS = table(ServicePayment)

INSTITUTION = Shape.named(table(Institution), InstitutionRow)
ACCOUNT = Shape.named(ACCOUNTS, AccountRow)
CARD = Shape.named(table(Card), CardRow)
TRANSFER_EVENT = Shape.named(table(TransferEvent), TransferEventRow)


def _balance(
    account_id: int, type_: str, amount_minor: int, currency: str, as_of: datetime
) -> BalanceRow:
    return BalanceRow(account_id, type_, Money(amount_minor, currency), as_of)


BALANCE = Shape.named(BALANCES, _balance)

ACCOUNT_UPSTREAM = Shape(
    (
        ACCOUNTS.c.id,
        ACCOUNTS.c.external_id,
        ACCOUNTS.c.connection_id,
        CONNECTIONS.c.provider,
        CONNECTIONS.c.base_url,
        CONNECTIONS.c.bank_id,
        CONNECTIONS.c.credentials_encrypted,
    ),
    AccountUpstreamRow,
)


def _transaction(
    id: int,
    account_id: int,
    status: str,
    booking_date: date,
    value_date: date | None,
    amount_minor: int,
    currency: str,
    balance_after_minor: int | None,
    type_: str,
    description: str | None,
    counterparty_name: str | None,
    counterparty_account: str | None,
    counterparty_bank: str | None,
    counterparty_country: str | None,
    merchant_name: str | None,
    mcc: str | None,
    category: str | None,
    category_source: str | None,
    user_category: str | None,
    rule_category: str | None,
    auto_category: str | None,
    auto_category_source: str | None,
    category_confidence: int | None,
    original_amount_minor: int | None,
    original_currency: str | None,
    fx_rate: str | None,
    card_id: int | None,
    transfer_id: int | None,
    service_payment_id: int | None,
    replaces_id: int | None,
    updated_at: datetime,
    removed_at: datetime | None,
    duplicate_of_id: int | None,
    duplicate_score: str | None,
    duplicate_rule: str | None,
    internal_transfer_leg_id: int | None,
    internal_transfer_rule: str | None,
) -> TransactionRow:
    return _new_tuple(
        TransactionRow,
        (
            id,
            account_id,
            status,
            booking_date,
            value_date,
            Money(amount_minor, currency),
            None if balance_after_minor is None else Money(balance_after_minor, currency),
            type_,
            description,
            counterparty_name,
            counterparty_account,
            counterparty_bank,
            counterparty_country,
            merchant_name,
            mcc,
            category,
            category_source,
            user_category,
            rule_category,
            auto_category,
            auto_category_source,
            category_confidence,
            _money(original_amount_minor, original_currency),
            fx_rate,
            card_id,
            transfer_id,
            service_payment_id,
            replaces_id,
            updated_at,
            removed_at,
            duplicate_of_id,
            duplicate_score,
            duplicate_rule,
            internal_transfer_leg_id,
            internal_transfer_rule,
        ),
    )


def _transfer(
    id: int,
    account_id: int,
    direction: str,
    amount_minor: int,
    currency: str,
    fee_minor: int | None,
    fee_currency: str | None,
    destination_amount_minor: int | None,
    destination_currency: str | None,
    source_amount_minor: int | None,
    source_currency: str | None,
    fx_rate: str | None,
    rail: str,
    corridor: str | None,
    counterparty_name: str | None,
    counterparty_account: str | None,
    counterparty_country: str | None,
    reference: str | None,
    status: str,
    initiated_at: datetime,
    completed_at: datetime | None,
) -> TransferRow:
    return TransferRow(
        id,
        account_id,
        direction,
        Money(amount_minor, currency),
        _money(fee_minor, fee_currency),
        _money(destination_amount_minor, destination_currency),
        _money(source_amount_minor, source_currency),
        fx_rate,
        rail,
        corridor,
        counterparty_name,
        counterparty_account,
        counterparty_country,
        reference,
        status,
        initiated_at,
        completed_at,
    )


def _service_payment(
    id: int,
    account_id: int,
    provider: str,
    category: str,
    service_account_masked: str | None,
    amount_minor: int,
    currency: str,
    paid_at: datetime,
    autopay: bool,
) -> ServicePaymentRow:
    return ServicePaymentRow(
        id,
        account_id,
        provider,
        category,
        service_account_masked,
        Money(amount_minor, currency),
        paid_at,
        autopay,
    )


def _revision(
    id: int,
    transaction_id: int,
    sync_run_id: int | None,
    kind: str,
    recorded_at: datetime,
    status: str,
    account_id: int,
    booking_date: date,
    booked_at: datetime | None,
    amount_minor: int,
    currency: str,
    balance_after_minor: int | None,
    counterparty_name: str | None,
    counterparty_account: str | None,
    description: str | None,
) -> RevisionRow:
    return RevisionRow(
        id,
        transaction_id,
        sync_run_id,
        kind,
        recorded_at,
        status,
        account_id,
        booking_date,
        booked_at,
        Money(amount_minor, currency),
        None if balance_after_minor is None else Money(balance_after_minor, currency),
        counterparty_name,
        counterparty_account,
        description,
    )


TRANSACTION = Shape.named(TX, _transaction)
REVISION = Shape.named(table(TransactionRevision), _revision)
TRANSFER = Shape.named(TRANSFERS, _transfer)
SERVICE_PAYMENT = Shape.named(PAYMENTS, _service_payment)
