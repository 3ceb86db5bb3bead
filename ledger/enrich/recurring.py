"""Recurring payment streams, computed on read from the ledger's rows (nothing is stored:
a stream follows from the rows, so it can never disagree with them).

A stream is a set of counted transactions (copies marked as duplicates left out) of one
direction and currency to or from one payee (merchant name, else counterparty name, else the
description's words; normalized, so case, script and the numbers inside a description do not
split it; shown as the bank last wrote it), whose amounts are
similar (each within 25 % of the median) and whose intervals are regular: at least 75 % of
them within the window of one frequency, weekly (5-9 days), biweekly (12-17), monthly
(25-35), quarterly (80-100) or yearly (345-385): a payment a day or two early or late
(a weekend, a short month) still counts; at least three transactions. Alif's
autopay service payments are streams by construction: two are enough, and their interval
need not be regular yet (frequency UNKNOWN).

The next expected date is the last one plus the frequency's period; the status on `as_of`:
ACTIVE until the next date plus a grace, LATE until one more period has passed, then ENDED.
Anchored on Plaid's recurring transactions (inflow and outflow streams).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich.text import normalize
from ledger.models import ServicePayment, Transaction, table
from ledger.money import Money
from ledger.queries import live

TX = table(Transaction)
PAYMENTS = table(ServicePayment)

# frequency -> (shortest and longest interval in days, the period in months or else in
# days, the grace in days before a payment counts as late)
_FREQUENCIES: dict[str, tuple[int, int, int, int, int]] = {
    "WEEKLY": (5, 9, 0, 7, 2),
    "BIWEEKLY": (12, 17, 0, 14, 3),
    "MONTHLY": (25, 35, 1, 0, 5),
    "QUARTERLY": (80, 100, 3, 0, 10),
    "YEARLY": (345, 385, 12, 0, 20),
}
MIN_OCCURRENCES = 3
MIN_AUTOPAY = 2
REGULAR_SHARE = 0.75
AMOUNT_TOLERANCE = 0.25
HISTORY_DAYS = 800  # two years and a little: enough for a yearly stream
_PAYEE_WORDS = 4


@dataclass(frozen=True, slots=True)
class Occurrence:
    id: int
    booking_date: date
    amount_minor: int
    currency: str
    payee: str  # the grouping key (normalized)
    category: str | None
    category_source: str | None
    autopay: bool
    name: str = ""  # the payee as the bank wrote it, for display


@dataclass(frozen=True, slots=True)
class Stream:
    payee: str
    direction: str  # INFLOW OUTFLOW
    category: str | None
    category_source: str
    frequency: str
    average: Money
    last_amount: Money
    last_date: date
    next_date: date | None
    status: str  # ACTIVE LATE ENDED
    autopay: bool
    transaction_ids: tuple[int, ...]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _advance(day: date, frequency: str, periods: int = 1) -> date:
    _, _, months, days, _ = _FREQUENCIES[frequency]
    return _add_months(day, months * periods) if months else day + timedelta(days=days * periods)


def _frequency(gaps: Sequence[int]) -> str | None:
    for name, (low, high, *_) in _FREQUENCIES.items():
        regular = sum(1 for g in gaps if low <= g <= high)
        if regular >= REGULAR_SHARE * len(gaps):
            return name
    return None


def _similar(amounts: Sequence[int]) -> bool:
    middle = median(abs(a) for a in amounts)
    close = sum(1 for a in amounts if abs(abs(a) - middle) <= AMOUNT_TOLERANCE * middle)
    return close >= REGULAR_SHARE * len(amounts)


def _status(next_date: date | None, frequency: str, as_of: date) -> str:
    if next_date is None:
        return "ACTIVE"
    grace = timedelta(days=_FREQUENCIES[frequency][4])
    if as_of <= next_date + grace:
        return "ACTIVE"
    if as_of <= _advance(next_date, frequency) + grace:
        return "LATE"
    return "ENDED"


def detect(occurrences: Sequence[Occurrence], as_of: date) -> list[Stream]:
    """The streams among `occurrences` (any order), largest average first."""
    groups: dict[tuple[str, str, bool], list[Occurrence]] = defaultdict(list)
    for o in occurrences:
        if o.payee and o.amount_minor != 0:
            groups[(o.payee, o.currency, o.amount_minor > 0)].append(o)
    streams = []
    for (payee, currency, inflow), members in groups.items():
        members.sort(key=lambda o: (o.booking_date, o.id))
        autopay = any(o.autopay for o in members)
        if len(members) < (MIN_AUTOPAY if autopay else MIN_OCCURRENCES):
            continue
        gaps = [(b.booking_date - a.booking_date).days for a, b in pairwise(members)]
        frequency = _frequency(gaps)
        amounts = [o.amount_minor for o in members]
        if not autopay and (frequency is None or not _similar(amounts)):
            continue
        last = members[-1]
        next_date = _advance(last.booking_date, frequency) if frequency else None
        streams.append(
            Stream(
                payee=last.name or payee,
                direction="INFLOW" if inflow else "OUTFLOW",
                category=last.category,
                category_source=last.category_source or "BANK",
                frequency=frequency or "UNKNOWN",
                average=Money(round(sum(amounts) / len(amounts)), currency),
                last_amount=Money(last.amount_minor, currency),
                last_date=last.booking_date,
                next_date=next_date,
                status=_status(next_date, frequency or "MONTHLY", as_of),
                autopay=autopay,
                transaction_ids=tuple(o.id for o in members),
            )
        )
    return sorted(streams, key=lambda s: (-abs(s.average.minor), s.payee, s.direction))


def payee_name(merchant: str | None, counterparty: str | None, description: str | None) -> str:
    """The payee as the bank wrote it (merchant, else counterparty, else the description's
    first words); a stream groups by it normalized, so case, script and numbers do not split it."""
    for name in (merchant, counterparty):
        if name and normalize(name):
            return name.strip()
    words = [w for w in (description or "").split() if normalize(w)]
    return " ".join(words[:_PAYEE_WORDS])


async def streams_of(
    session: AsyncSession, account_ids: Sequence[int], as_of: date
) -> list[Stream]:
    """The recurring streams of these accounts' counted transactions up to `as_of`."""
    if not account_ids:
        return []
    stmt = (
        select(
            TX.c.id,
            TX.c.booking_date,
            TX.c.amount_minor,
            TX.c.currency,
            TX.c.merchant_name,
            TX.c.counterparty_name,
            TX.c.description,
            TX.c.user_category,
            TX.c.rule_category,
            TX.c.auto_category,
            TX.c.auto_category_source,
            TX.c.category,
            func.coalesce(PAYMENTS.c.autopay, False),
        )
        .select_from(TX.outerjoin(PAYMENTS, PAYMENTS.c.id == TX.c.service_payment_id))
        .where(
            TX.c.account_id.in_(account_ids),
            live(),
            TX.c.booking_date <= as_of,
            TX.c.booking_date >= as_of - timedelta(days=HISTORY_DAYS),
            # A second copy of one payment (a card feed and an account feed) is no occurrence.
            TX.c.duplicate_of_id.is_(None),
        )
    )
    found = []
    for row in await session.execute(stmt):
        (id_, day, amount, currency, merchant, counterparty, description) = row[:7]
        name = payee_name(merchant, counterparty, description)
        user, rule, auto, auto_source, bank, autopay = row[7:]
        if user:
            category, source = user, "USER"
        elif rule:
            category, source = rule, "RULE"
        elif auto:
            category, source = auto, auto_source or "TEXT"
        else:
            category, source = bank, "BANK"
        found.append(
            Occurrence(
                id=int(id_),
                booking_date=day,
                amount_minor=int(amount),
                currency=currency,
                payee=normalize(name),
                category=category,
                category_source=source,
                autopay=bool(autopay),
                name=name,
            )
        )
    return detect(found, as_of)
