"""Moves between the customer's own accounts: the debit on one account and the credit on
another are one internal transfer, linked leg to leg (`internal_transfer_leg_id` on both).
Paired legs are not spending (`ledger.queries.spending`); their category is TRANSFER_OUT
on the debit and TRANSFER_IN on the credit (`direction_of`, for the categorizer).

Two rows are the legs of one move when ALL of (docs/fx-and-remittances.md):

- one customer, two different accounts, one debit and one credit, neither a duplicate
  nor already paired, booked at most `WINDOW_DAYS` apart;
- a signal that says so, the first that applies: `SHARED_REFERENCE` (both carry the same
  upstream id or transfer id: the bank's own record of one move), `COUNTERPARTY_ACCOUNT`
  (a leg names the other leg's account as its counterparty), `EXCHANGE_LEGS` (both are
  currency exchanges: the customer's bank converting between their own accounts);
- the amounts agree: equal in one currency; across two currencies the rate the legs imply
  (credit per debit) within `RATE_TOLERANCE` (3 %) of NBT's cross rate of the debit's day.
  Without an NBT rate for that day, only the two strong signals (a shared reference, a
  named account) pair legs of two currencies.

Pairs are made one to one, the strongest signal, then the nearest days, then the closest
rate first. A transfer to a friend and a salary of the same amount are never paired: there
is no signal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, FromClause, Table, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import fx
from ledger.enrich import pipeline
from ledger.enrich.candidates import TX, Candidate
from ledger.money import exponent

WINDOW_DAYS = 2
RATE_TOLERANCE = Decimal("0.03")
SHARED_REFERENCE = "SHARED_REFERENCE"
COUNTERPARTY_ACCOUNT = "COUNTERPARTY_ACCOUNT"
EXCHANGE_LEGS = "EXCHANGE_LEGS"
_STRENGTH = {SHARED_REFERENCE: 0, COUNTERPARTY_ACCOUNT: 1, EXCHANGE_LEGS: 2}
TRANSFER_IN = "TRANSFER_IN"
TRANSFER_OUT = "TRANSFER_OUT"


@dataclass(frozen=True, slots=True)
class Pair:
    debit_id: int
    credit_id: int
    rule: str


def direction_of(amount_minor: int, leg_id: int | None) -> str | None:
    """A paired leg's direction: TRANSFER_OUT for the debit, TRANSFER_IN for the credit;
    None for a row that is no leg of an own-account transfer."""
    if leg_id is None:
        return None
    return TRANSFER_OUT if amount_minor < 0 else TRANSFER_IN


def paired_leg(t: Table | FromClause = TX) -> ColumnElement[bool]:
    """SQL: the row is a leg of a move between the customer's own accounts."""
    return t.c.internal_transfer_leg_id.is_not(None)


def leg_direction(t: Table | FromClause = TX) -> ColumnElement[str | None]:
    """SQL: `direction_of` as a column (NULL for a row that is no leg)."""
    return case(
        (t.c.internal_transfer_leg_id.is_(None), None),
        (t.c.amount_minor < 0, TRANSFER_OUT),
        else_=TRANSFER_IN,
    )


def signal_of(debit: Candidate, credit: Candidate) -> str | None:
    if debit.external_id == credit.external_id or (
        debit.transfer_external_id is not None
        and debit.transfer_external_id == credit.transfer_external_id
    ):
        return SHARED_REFERENCE
    if debit.names_account(credit) or credit.names_account(debit):
        return COUNTERPARTY_ACCOUNT
    if debit.type == "CURRENCY_EXCHANGE" and credit.type == "CURRENCY_EXCHANGE":
        return EXCHANGE_LEGS
    return None


def implied_rate(debit: Candidate, credit: Candidate) -> Decimal:
    """Units of the credit's currency per unit of the debit's, as the legs say."""
    paid = Decimal(-debit.amount_minor).scaleb(-exponent(debit.currency))
    got = Decimal(credit.amount_minor).scaleb(-exponent(credit.currency))
    return got / paid


def deviation(debit: Candidate, credit: Candidate, book: fx.RateBook) -> Decimal | None:
    """|implied / NBT - 1| for two currencies; 0 for equal amounts of one; None when the
    amounts cannot be one move (one currency, unequal) or NBT has no rate that day."""
    if debit.currency == credit.currency:
        return Decimal(0) if -debit.amount_minor == credit.amount_minor else None
    official = book.on(debit.currency, debit.booking_date)
    if official is None:
        return None
    return abs(implied_rate(debit, credit) / official.rate - 1)


def pairs(
    rows: Sequence[Candidate], books: dict[str, fx.RateBook], *, focus: set[int] | None = None
) -> list[Pair]:
    """The one-to-one pairs among `rows` (touching `focus` only, when given). `books`: a
    rate book into each credit currency."""
    usable = [r for r in rows if r.duplicate_of_id is None and r.internal_transfer_leg_id is None]
    debits = [r for r in usable if r.amount_minor < 0]
    credits = [r for r in usable if r.amount_minor > 0]
    every = _CreditIndex(credits)
    # A debit outside `focus` can pair only with a credit in it: an index of those alone
    # finds exactly them (the pairs are sorted below, whatever order they are found in).
    focused = every if focus is None else _CreditIndex([c for c in credits if c.id in focus])
    found: list[tuple[int, int, Decimal, int, int, str]] = []
    for debit in debits:
        index = every if focus is None or debit.id in focus else focused
        for credit in index.related(debit):
            if debit.account_id == credit.account_id:
                continue
            gap = abs((debit.booking_date - credit.booking_date).days)
            if gap > WINDOW_DAYS:
                continue
            signal = signal_of(debit, credit)
            if signal is None:
                continue
            off = deviation(debit, credit, books[credit.currency])
            if off is None:
                # Unequal amounts of one currency are two moves; two currencies without
                # an NBT rate that day pair on a strong signal only, after all others.
                if debit.currency == credit.currency or signal == EXCHANGE_LEGS:
                    continue
                off = Decimal(1)
            elif off > RATE_TOLERANCE:
                continue
            found.append((_STRENGTH[signal], gap, off, debit.id, credit.id, signal))
    result = []
    taken: set[int] = set()
    for _s, _g, _o, debit_id, credit_id, signal in sorted(found):
        if debit_id in taken or credit_id in taken:
            continue
        taken.update((debit_id, credit_id))
        result.append(Pair(debit_id, credit_id, signal))
    return result


class _CreditIndex:
    """The credits a debit could pair with, found without looking at every credit: those
    sharing an id or a transfer id with it, those on an account it names or naming its
    account, and (for an exchange) the exchanges. `signal_of` then decides; `pairs` sorts
    what is found, so the order here does not matter."""

    def __init__(self, credits: Sequence[Candidate]) -> None:
        self.by_external_id: dict[str, list[Candidate]] = defaultdict(list)
        self.by_transfer_id: dict[str, list[Candidate]] = defaultdict(list)
        self.by_account: dict[int, list[Candidate]] = defaultdict(list)
        self.by_named: dict[str, list[Candidate]] = defaultdict(list)
        self.exchanges: list[Candidate] = []
        self.accounts: dict[str, set[int]] = defaultdict(set)
        for credit in credits:
            self.by_external_id[credit.external_id].append(credit)
            if credit.transfer_external_id is not None:
                self.by_transfer_id[credit.transfer_external_id].append(credit)
            self.by_account[credit.account_id].append(credit)
            if credit.counterparty_account:
                self.by_named[credit.counterparty_account].append(credit)
            if credit.type == "CURRENCY_EXCHANGE":
                self.exchanges.append(credit)
            for number in (credit.account_number, credit.account_masked):
                if number:
                    self.accounts[number].add(credit.account_id)

    def related(self, debit: Candidate) -> Iterable[Candidate]:
        """Each credit once. Most debits have none: the lookups come first, the merge of
        several groups only when there are several."""
        groups = []
        if found := self.by_external_id.get(debit.external_id):
            groups.append(found)
        if debit.transfer_external_id is not None and (
            found := self.by_transfer_id.get(debit.transfer_external_id)
        ):
            groups.append(found)
        if debit.counterparty_account:
            for account_id in self.accounts.get(debit.counterparty_account, ()):
                groups.append(self.by_account[account_id])
        for number in (debit.account_number, debit.account_masked):
            if number and (found := self.by_named.get(number)):
                groups.append(found)
        if debit.type == "CURRENCY_EXCHANGE" and self.exchanges:
            groups.append(self.exchanges)
        if len(groups) < 2:
            return groups[0] if groups else ()
        return {credit.id: credit for group in groups for credit in group}.values()


async def link(session: AsyncSession, found: Sequence[Pair], *, now: datetime) -> int:
    """Store the pairs, both legs or neither (a leg paired meanwhile keeps its pair)."""
    linked = 0
    for pair in found:
        try:
            async with session.begin_nested():
                done = 0
                legs = ((pair.debit_id, pair.credit_id), (pair.credit_id, pair.debit_id))
                for leg, other in legs:
                    result = await session.execute(
                        update(TX)
                        .where(TX.c.id == leg, TX.c.internal_transfer_leg_id.is_(None))
                        .values(
                            internal_transfer_leg_id=other,
                            internal_transfer_rule=pair.rule,
                            updated_at=now,
                        )
                    )
                    done += result.rowcount  # type: ignore[attr-defined]
                if done != 2:
                    raise _Raced  # rolls the savepoint back: both legs or neither
                await pipeline.label_paired_legs(session, [pair.debit_id, pair.credit_id])
        except _Raced:
            continue
        linked += 1
    return linked


class _Raced(Exception):
    """A leg was paired by someone else between the read and the write."""


async def detect(
    session: AsyncSession,
    rows: Sequence[Candidate],
    account_id: int,
    date_to: date,
    *,
    now: datetime,
) -> int:
    """Pair the own-account moves among `rows` (the customer's candidates within
    `WINDOW_DAYS` of the days looked at, up to `date_to`) that involve `account_id`; the
    number of pairs made."""
    focus = {r.id for r in rows if r.account_id == account_id}
    currencies = sorted({r.currency for r in rows})
    until = max((r.booking_date for r in rows), default=date_to)
    # Every NBT rate is quoted in TJS: the books into other currencies cross through it.
    stored = await fx.rates_into(session, fx.HOME, currencies, until)
    books = {c: fx.RateBook(c, stored) for c in currencies}
    return await link(session, pairs(rows, books, focus=focus), now=now)
