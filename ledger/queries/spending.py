"""Spending insights: debits grouped by category, merchant or month, converted into one
reporting currency with stated exchange rates, with percentages that add up to 100."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import fx
from ledger.enrich import own_transfers, taxonomy
from ledger.fx import AppliedRate, convert_minor
from ledger.models import Account, Transaction, Transfer, table
from ledger.money import Money, exponent
from ledger.queries import effective_category, live, sum_minor

ACCOUNTS = table(Account)
TRANSFERS = table(Transfer)
TX = table(Transaction)

GROUPINGS = ("CATEGORY", "PRIMARY_CATEGORY", "MERCHANT", "MONTH")
# Moving money between one's own pockets is not spending.
NOT_SPENDING_TYPES = ("CURRENCY_EXCHANGE",)
NO_RATE = "NO_RATE"


@dataclass(frozen=True, slots=True)
class SpendingGroup:
    key: str  # category code, primary category, merchant name or "YYYY-MM"; "" when unknown
    total: Money  # money spent (positive), in the reporting currency
    count: int
    percent: Decimal  # two decimals; the groups' percents add up to exactly 100


@dataclass(frozen=True, slots=True)
class SpendingExclusion:
    """Spending left out of the totals, in its own currency, and why."""

    total: Money
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class SpendingSummary:
    total: Money  # in the reporting currency
    groups: tuple[SpendingGroup, ...] = ()
    rates: tuple[AppliedRate, ...] = ()
    excluded: tuple[SpendingExclusion, ...] = ()

    @property
    def currency(self) -> str:
        return self.total.currency


@dataclass(frozen=True, slots=True)
class _Spent:
    """Debits of one group, currency and day: `spent` is their (negative) sum."""

    key: str
    currency: str
    booking_date: date
    spent: int
    count: int


def largest_remainder_percents(values: Sequence[int], places: int = 2) -> list[Decimal]:
    """Each value's share in percent with `places` decimals, adding up to exactly 100.

    Every share is floored, then the units still missing go to the largest remainders (ties
    to the earlier value): no share is off by more than one unit in the last place.
    """
    total = sum(values)
    if total <= 0:
        return [Decimal(0).scaleb(-places) for _ in values]
    units = 100 * 10**places
    shares = [v * units // total for v in values]
    remainders = [v * units % total for v in values]
    by_remainder = sorted(range(len(values)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[: units - sum(shares)]:
        shares[i] += 1
    return [Decimal(s).scaleb(-places) for s in shares]


async def spending_summary(
    session: AsyncSession,
    user_id: int,
    account_ids: Sequence[int],
    date_from: date,
    date_to: date,
    *,
    group_by: str,
    currency: str,
) -> SpendingSummary:
    """Spending of `[date_from, date_to]` (booking dates) grouped and converted to `currency`.

    Spending: every debit that counts (booked or pending, not superseded) except currency
    exchanges, transfers between the customer's own accounts as far as the ledger knows
    them (a counterparty account that is one of theirs, a Transfer record whose counterparty
    account is one of theirs, a leg paired by `ledger.enrich.own_transfers`, or a category
    of an own-account transfer such as TRANSFER_OUT_OWN_ACCOUNT, which the customer may
    set) and duplicates (`ledger.enrich.duplicates`). CATEGORY groups by detailed code (a
    bank's own key under its taxonomy code), PRIMARY_CATEGORY by its primary. Foreign
    amounts are converted per group, currency and day with the latest ExchangeRate on or
    before that day; spending with no such rate is left out of the totals and reported in
    `excluded` (reason NO_RATE), never silently dropped.
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    exponent(currency)
    if not account_ids:
        return SpendingSummary(Money.zero(currency))
    spent = await _spending_rows(session, user_id, account_ids, date_from, date_to, group_by)
    foreign = sorted({r.currency for r in spent} - {currency})
    book = await fx.rate_book(session, currency, foreign, date_to)

    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    used: set[AppliedRate] = set()
    excluded: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for row in spent:
        key = _key(group_by, row)
        amount, n = -int(row.spent), int(row.count)
        if row.currency != currency:
            rate = book.on(row.currency, row.booking_date)
            if rate is None:
                total, number = excluded[row.currency]
                excluded[row.currency] = (total + amount, number + n)
                continue
            used.add(rate)
            amount = convert_minor(amount, row.currency, currency, rate.rate)
        totals[key] += amount
        counts[key] += n

    keys = sorted(totals, key=lambda k: (-totals[k], k))
    percents = largest_remainder_percents([totals[k] for k in keys])
    return SpendingSummary(
        total=Money(sum(totals.values()), currency),
        groups=tuple(
            SpendingGroup(key=k, total=Money(totals[k], currency), count=counts[k], percent=p)
            for k, p in zip(keys, percents, strict=True)
        ),
        rates=tuple(sorted(used, key=lambda r: (r.base, r.on_date, r.source))),
        excluded=tuple(
            SpendingExclusion(total=Money(t, c), count=n, reason=NO_RATE)
            for c, (t, n) in sorted(excluded.items())
        ),
    )


def _key(group_by: str, row: _Spent) -> str:
    if group_by == "MONTH":
        return f"{row.booking_date:%Y-%m}"
    if group_by == "CATEGORY":
        return taxonomy.canonical(row.key) if row.key else ""
    if group_by == "PRIMARY_CATEGORY":
        return (taxonomy.primary_of(row.key) or "") if row.key else ""
    return row.key


async def _spending_rows(
    session: AsyncSession,
    user_id: int,
    account_ids: Sequence[int],
    date_from: date,
    date_to: date,
    group_by: str,
) -> list[_Spent]:
    # MONTH groups by day here and by month in Python: date functions differ per database.
    unknown: ColumnElement[str] = literal_column(
        "''"
    )  # inline, so SELECT and GROUP BY match on PostgreSQL
    category: ColumnElement[str] = func.coalesce(effective_category(), unknown)
    keys: dict[str, ColumnElement[str]] = {
        "CATEGORY": category,
        "PRIMARY_CATEGORY": category,
        "MERCHANT": func.coalesce(TX.c.merchant_name, TX.c.counterparty_name, unknown),
        "MONTH": unknown,
    }
    key = keys[group_by]
    to_own_account = exists().where(
        ACCOUNTS.c.user_id == user_id,
        or_(
            ACCOUNTS.c.number_masked == TX.c.counterparty_account,
            ACCOUNTS.c.number == TX.c.counterparty_account,
        ),
    )
    own = or_(
        ACCOUNTS.c.number_masked == TRANSFERS.c.counterparty_account,
        ACCOUNTS.c.number == TRANSFERS.c.counterparty_account,
    )
    transfer_to_own_account = exists().where(
        TRANSFERS.c.id == TX.c.transfer_id, ACCOUNTS.c.user_id == user_id, own
    )
    own_transfer_category = func.coalesce(effective_category(), unknown).in_(
        taxonomy.OWN_TRANSFER_CODES
    )
    stmt = (
        select(
            key.label("key"),
            TX.c.currency,
            TX.c.booking_date,
            sum_minor(TX.c.amount_minor).label("spent"),
            func.count().label("count"),
        )
        .where(
            TX.c.account_id.in_(account_ids),
            live(),
            TX.c.amount_minor < 0,
            TX.c.booking_date.between(date_from, date_to),
            TX.c.type.not_in(NOT_SPENDING_TYPES),
            ~to_own_account,
            ~transfer_to_own_account,
            ~own_transfer_category,
            # A later copy of a payment, or a leg of a move between own accounts.
            TX.c.duplicate_of_id.is_(None),
            ~own_transfers.paired_leg(),
        )
        .group_by(*([] if group_by == "MONTH" else [key]), TX.c.currency, TX.c.booking_date)
    )
    return [_Spent(*values) for values in await session.execute(stmt)]
