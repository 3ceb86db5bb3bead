"""Filtered lists (keyset pages) and their counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, Card, ServicePayment, Transaction, Transfer, table
from ledger.money import CURRENCY_EXPONENTS
from ledger.queries import bank_day_start, effective_category, live
from ledger.queries.results import (
    ACCOUNT,
    CARD,
    SERVICE_PAYMENT,
    TRANSACTION,
    TRANSFER,
    AccountRow,
    CardRow,
    ServicePaymentRow,
    TransactionRow,
    TransferRow,
    fetch,
)
from ledger.queries.windows import (
    Window,
    count,
    per_account_window,
    window_parameters,
    windowed,
)

ACCOUNTS = table(Account)
CARDS = table(Card)
PAYMENTS = table(ServicePayment)
TX = table(Transaction)
TRANSFERS = table(Transfer)

# Sort keys of each list; each ends with the primary key, a stable tiebreak. Each key is
# also the name of an attribute of the list's rows.
ACCOUNT_KEYS = ("id",)
CARD_KEYS = ("id",)
TRANSACTION_KEYS = ("booking_date", "id")
TRANSFER_KEYS = ("initiated_at", "id")
SERVICE_PAYMENT_KEYS = ("paid_at", "id")


# --- accounts and cards ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountCriteria:
    account_ids: Sequence[int]
    institution_ids: Sequence[int] | None = None
    types: Sequence[str] | None = None
    currencies: Sequence[str] | None = None


def _account_conditions(c: AccountCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [ACCOUNTS.c.id.in_(c.account_ids)]
    if c.institution_ids is not None:
        conditions.append(ACCOUNTS.c.institution_id.in_(c.institution_ids))
    if c.types is not None:
        conditions.append(ACCOUNTS.c.type.in_(c.types))
    if c.currencies is not None:
        conditions.append(ACCOUNTS.c.currency.in_(c.currencies))
    return conditions


async def account_page(
    session: AsyncSession, criteria: AccountCriteria, window: Window
) -> list[AccountRow]:
    if not criteria.account_ids:
        return []
    stmt = select(*ACCOUNT.columns).where(*_account_conditions(criteria))
    stmt = windowed(stmt, [ACCOUNTS.c.id], window)
    return await fetch(session, stmt, ACCOUNT, window_parameters(window))


async def account_count(session: AsyncSession, criteria: AccountCriteria) -> int:
    if not criteria.account_ids:
        return 0
    stmt = select(func.count()).select_from(ACCOUNTS).where(*_account_conditions(criteria))
    return int((await session.execute(stmt)).scalar_one())


async def card_page(
    session: AsyncSession, account_ids: Sequence[int], window: Window
) -> list[CardRow]:
    if not account_ids:
        return []
    stmt = select(*CARD.columns).where(CARDS.c.account_id.in_(account_ids))
    stmt = windowed(stmt, [CARDS.c.id], window)
    return await fetch(session, stmt, CARD, window_parameters(window))


async def card_count(session: AsyncSession, account_ids: Sequence[int]) -> int:
    return await count(session, CARDS, account_ids, [])


# --- transactions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransactionCriteria:
    """Which transactions a list shows. Amount bounds compare the absolute amount (debits
    and credits alike) in the transaction's own currency; dates are booking dates."""

    account_ids: Sequence[int]
    card_ids: Sequence[int] | None = None
    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    types: Sequence[str] | None = None
    categories: Sequence[str] | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    search: str | None = None
    updated_since: datetime | None = None
    # Statements: leave out a duplicate whose original is on the same account.
    hide_copies: bool = False


def _currencies_by_exponent() -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for code, exp in CURRENCY_EXPONENTS.items():
        grouped[exp].append(code)
    return dict(sorted(grouped.items()))


_CURRENCIES_BY_EXPONENT = _currencies_by_exponent()


def _amount_bound(bound: Decimal, *, lower: bool) -> ColumnElement[bool]:
    """|amount| >= bound (or <=), exact for every currency exponent.

    The bound is scaled into each exponent's minor units and rounded towards the inside of
    the range: "10.005" admits 10.01 TJS but not 10.00; nothing matches by rounding.
    """
    amount = func.abs(TX.c.amount_minor)
    branches = []
    for exp, codes in _CURRENCIES_BY_EXPONENT.items():
        scaled = bound.scaleb(exp).to_integral_value(ROUND_CEILING if lower else ROUND_FLOOR)
        compare = amount >= int(scaled) if lower else amount <= int(scaled)
        branches.append(and_(TX.c.currency.in_(codes), compare))
    return or_(*branches)


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_NO_FILTER = TransactionCriteria(account_ids=())


def transaction_conditions(c: TransactionCriteria) -> list[ColumnElement[bool]]:
    """The filter of a transaction list, the account restriction aside."""
    conditions: list[ColumnElement[bool]] = [live()]
    if c.hide_copies:
        original = TX.alias("original")
        conditions.append(
            ~exists().where(
                original.c.id == TX.c.duplicate_of_id,
                original.c.account_id == TX.c.account_id,
            )
        )
    if c.card_ids is not None:
        conditions.append(TX.c.card_id.in_(c.card_ids))
    if c.date_from is not None:
        conditions.append(TX.c.booking_date >= c.date_from)
    if c.date_to is not None:
        conditions.append(TX.c.booking_date <= c.date_to)
    if c.status is not None:
        conditions.append(TX.c.status == c.status)
    if c.types is not None:
        conditions.append(TX.c.type.in_(c.types))
    if c.categories is not None:
        conditions.append(effective_category().in_(c.categories))
    if c.min_amount is not None:
        conditions.append(_amount_bound(c.min_amount, lower=True))
    if c.max_amount is not None:
        conditions.append(_amount_bound(c.max_amount, lower=False))
    if c.search:
        # Case-insensitive in every alphabet on PostgreSQL; SQLite folds ASCII only.
        pattern = _like_pattern(c.search)
        searched = (TX.c.description, TX.c.counterparty_name, TX.c.merchant_name)
        conditions.append(or_(*(func.lower(col).like(pattern, escape="\\") for col in searched)))
    if c.updated_since is not None:
        conditions.append(TX.c.updated_at >= c.updated_since)
    return conditions


_UNFILTERED = {
    hide: transaction_conditions(replace(_NO_FILTER, hide_copies=hide)) for hide in (False, True)
}


async def transaction_page(
    session: AsyncSession, criteria: TransactionCriteria, window: Window
) -> list[TransactionRow]:
    # Without a filter the conditions hold no values: they and the statement are reused.
    unfiltered = replace(criteria, account_ids=(), hide_copies=False) == _NO_FILTER
    conditions = (
        _UNFILTERED[criteria.hide_copies] if unfiltered else transaction_conditions(criteria)
    )
    return await per_account_window(
        session, TX, TRANSACTION, TRANSACTION_KEYS, criteria.account_ids, conditions, window,
        reusable=("transactions", criteria.hide_copies) if unfiltered else None,
    )  # fmt: skip


async def transaction_count(session: AsyncSession, criteria: TransactionCriteria) -> int:
    return await count(session, TX, criteria.account_ids, transaction_conditions(criteria))


async def transaction_offset_page(
    session: AsyncSession, criteria: TransactionCriteria, *, limit: int, offset: int
) -> list[TransactionRow]:
    """Newest first, by OFFSET: only for the seed-compatible REST endpoint, whose published
    contract pages by offset. Everything else pages by keyset."""
    if not criteria.account_ids:
        return []
    stmt = (
        select(*TRANSACTION.columns)
        .where(TX.c.account_id.in_(criteria.account_ids), *transaction_conditions(criteria))
        .order_by(TX.c.booking_date.desc(), TX.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return await fetch(session, stmt, TRANSACTION)


# --- transfers and service payments ---------------------------------------------------------


def _on_bank_days(
    moment: ColumnElement[datetime], date_from: date | None, date_to: date | None
) -> list[ColumnElement[bool]]:
    """`moment` falls on a bank day (Dushanbe time) from `date_from` to `date_to`, inclusive."""
    conditions: list[ColumnElement[bool]] = []
    if date_from is not None:
        conditions.append(moment >= bank_day_start(date_from))
    if date_to is not None:
        conditions.append(moment < bank_day_start(date_to + timedelta(1)))
    return conditions


@dataclass(frozen=True, slots=True)
class TransferCriteria:
    """Dates select on the bank day (Dushanbe time) on which the transfer was initiated."""

    account_ids: Sequence[int]
    statuses: Sequence[str] | None = None
    direction: str | None = None
    rails: Sequence[str] | None = None
    corridor: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _transfer_conditions(c: TransferCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if c.statuses is not None:
        conditions.append(TRANSFERS.c.status.in_(c.statuses))
    if c.direction is not None:
        conditions.append(TRANSFERS.c.direction == c.direction)
    if c.rails is not None:
        conditions.append(TRANSFERS.c.rail.in_(c.rails))
    if c.corridor is not None:
        conditions.append(TRANSFERS.c.corridor == c.corridor)
    return conditions + _on_bank_days(TRANSFERS.c.initiated_at, c.date_from, c.date_to)


async def transfer_page(
    session: AsyncSession, criteria: TransferCriteria, window: Window
) -> list[TransferRow]:
    conditions = _transfer_conditions(criteria)
    return await per_account_window(
        session, TRANSFERS, TRANSFER, TRANSFER_KEYS, criteria.account_ids, conditions, window
    )


async def transfer_count(session: AsyncSession, criteria: TransferCriteria) -> int:
    return await count(session, TRANSFERS, criteria.account_ids, _transfer_conditions(criteria))


@dataclass(frozen=True, slots=True)
class ServicePaymentCriteria:
    """Dates select on the bank day (Dushanbe time) of the payment."""

    account_ids: Sequence[int]
    categories: Sequence[str] | None = None
    providers: Sequence[str] | None = None
    date_from: date | None = None
    date_to: date | None = None


def _payment_conditions(c: ServicePaymentCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if c.categories is not None:
        conditions.append(PAYMENTS.c.category.in_(c.categories))
    if c.providers is not None:
        conditions.append(PAYMENTS.c.provider.in_(c.providers))
    return conditions + _on_bank_days(PAYMENTS.c.paid_at, c.date_from, c.date_to)


async def service_payment_page(
    session: AsyncSession, criteria: ServicePaymentCriteria, window: Window
) -> list[ServicePaymentRow]:
    conditions = _payment_conditions(criteria)
    return await per_account_window(
        session,
        PAYMENTS,
        SERVICE_PAYMENT,
        SERVICE_PAYMENT_KEYS,
        criteria.account_ids,
        conditions,
        window,
    )


async def service_payment_count(session: AsyncSession, criteria: ServicePaymentCriteria) -> int:
    return await count(session, PAYMENTS, criteria.account_ids, _payment_conditions(criteria))
