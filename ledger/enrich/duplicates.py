"""The same real payment stored twice: found, linked with `duplicate_of_id`, undone on
the customer's word. Never deleted (docs/fx-and-remittances.md, "Duplicates").

How a payment reaches the ledger twice: a card feed and an account feed of one account;
one bank account linked through two connections (two banks' views of one payment, or a
statement file overlapping an API sync). Two rows are one payment when ALL of:

- they belong to one customer, have the same signed amount in the same currency, and are
  booked at most `WINDOW_DAYS` apart;
- their payees agree: the same merchant or counterparty name (case, spaces and
  punctuation aside), or the same counterparty account, or neither names one and their
  descriptions are equal; two different payees are never one payment;
- one rule says why they are two copies (the first that applies, with its base score):
  `SAME_REFERENCE` 1.00: the same upstream id, or the same transfer id, on two
  different accounts; `SAME_ACCOUNT_TWICE` 0.95: two ledger accounts that are one bank
  account (same number and currency, different connections); `CARD_AND_ACCOUNT_FEED`
  0.90: one account, one row from the card feed (it names a card) and one without.

Two rows of one feed of one account are never duplicates, however alike: two coffees of
20.00 at one cafe on one day are two coffees. The score is the base less 0.05 per day
between the booking dates; links are made one to one, best score first, and the later
row (by id: stored later) is the duplicate of the earlier. A row the customer marked as
no duplicate (`not_duplicate_at`) is never linked again, neither is an own-transfer leg.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich.candidates import TX, Candidate

WINDOW_DAYS = 3
PER_DAY = Decimal("0.05")
SAME_REFERENCE = "SAME_REFERENCE"
SAME_ACCOUNT_TWICE = "SAME_ACCOUNT_TWICE"
CARD_AND_ACCOUNT_FEED = "CARD_AND_ACCOUNT_FEED"
BASE_SCORES = {
    SAME_REFERENCE: Decimal("1.00"),
    SAME_ACCOUNT_TWICE: Decimal("0.95"),
    CARD_AND_ACCOUNT_FEED: Decimal("0.90"),
}


@dataclass(frozen=True, slots=True)
class Match:
    original_id: int
    duplicate_id: int
    rule: str
    score: Decimal


def payees_agree(a: Candidate, b: Candidate) -> bool:
    if a.payee is not None and b.payee is not None:
        return a.payee == b.payee
    if a.counterparty_account and b.counterparty_account:
        return a.counterparty_account == b.counterparty_account
    if a.payee is None and b.payee is None:
        return (a.description or "").strip() == (b.description or "").strip()
    return False  # one names a payee, the other does not: no evidence they are one


def rule_of(a: Candidate, b: Candidate) -> str | None:
    """Why `a` and `b` would be two copies of one payment; None: they are not."""
    if a.account_id != b.account_id:
        if a.external_id == b.external_id or (
            a.transfer_external_id is not None and a.transfer_external_id == b.transfer_external_id
        ):
            return SAME_REFERENCE
        if (
            a.connection_id != b.connection_id
            and a.account_number is not None
            and a.account_number == b.account_number
            and a.account_currency == b.account_currency
        ):
            return SAME_ACCOUNT_TWICE
        return None
    if (a.card_external_id is None) != (b.card_external_id is None):
        return CARD_AND_ACCOUNT_FEED
    return None


def score_of(rule: str, a: date, b: date) -> Decimal:
    return BASE_SCORES[rule] - PER_DAY * abs((a - b).days)


def _eligible(row: Candidate) -> bool:
    return not row.not_duplicate and row.internal_transfer_leg_id is None


def matches(rows: Sequence[Candidate], *, focus: set[int] | None = None) -> list[Match]:
    """The one-to-one links among `rows` (pairs touching `focus` only, when given); rows
    already linked take part as what they are and are not linked again."""
    taken: set[int] = set()
    for row in rows:
        if row.duplicate_of_id is not None:
            taken.update((row.id, row.duplicate_of_id))
    by_amount: dict[tuple[int, str], list[Candidate]] = {}
    for row in rows:
        by_amount.setdefault((row.amount_minor, row.currency), []).append(row)
    found: list[tuple[Decimal, int, int, int, str]] = []

    def consider(a: Candidate, b: Candidate, gap: int) -> None:
        rule = rule_of(a, b)  # the cheapest test first: most pairs stop here
        if rule is None or not (_eligible(a) and _eligible(b)) or not payees_agree(a, b):
            return
        earlier, later = sorted((a.id, b.id))
        found.append((score_of(rule, a.booking_date, b.booking_date), gap, earlier, later, rule))

    for group in by_amount.values():
        if len(group) < 2:
            continue
        # By day: each row meets only the rows up to WINDOW_DAYS from it (a group of one
        # fixed fee can hold thousands), and the pairs are the same in any order.
        group.sort(key=_day)
        mine = group if focus is None else [row for row in group if row.id in focus]
        if not mine:
            continue
        if focus is None or 2 * len(mine) >= len(group):
            # Mostly the focus's rows: each row meets the rows after it.
            for i, a in enumerate(group):
                for b in itertools.islice(group, i + 1, None):
                    gap = (b.booking_date - a.booking_date).days
                    if gap > WINDOW_DAYS:
                        break
                    if focus is None or a.id in focus or b.id in focus:
                        consider(a, b, gap)
            continue
        # Mostly other accounts' rows (a read covers every account of the customer): the
        # focus's rows meet the focus's rows after them and the others' rows around them,
        # found by day; the others' pairs among themselves are never looked at.
        theirs = [row for row in group if row.id not in focus]
        their_days = [row.booking_date for row in theirs]
        for i, a in enumerate(mine):
            for b in itertools.islice(mine, i + 1, None):
                gap = (b.booking_date - a.booking_date).days
                if gap > WINDOW_DAYS:
                    break
                consider(a, b, gap)
            for b in itertools.islice(
                theirs, bisect.bisect_left(their_days, a.booking_date - _WINDOW), None
            ):
                gap = (b.booking_date - a.booking_date).days
                if gap > WINDOW_DAYS:
                    break
                consider(a, b, abs(gap))
    result = []
    for score, _gap, earlier, later, rule in sorted(found, key=lambda f: (-f[0], *f[1:4])):
        if earlier in taken or later in taken:
            continue
        taken.update((earlier, later))
        result.append(Match(earlier, later, rule, score))
    return result


_day = attrgetter("booking_date")
_WINDOW = timedelta(days=WINDOW_DAYS)


async def link(session: AsyncSession, found: Sequence[Match], *, now: datetime) -> list[Match]:
    """Store the links; a row linked or dismissed meanwhile is left alone. The links
    stored."""
    stored = []
    for match in found:
        result = await session.execute(
            update(TX)
            .where(
                TX.c.id == match.duplicate_id,
                TX.c.duplicate_of_id.is_(None),
                TX.c.not_duplicate_at.is_(None),
            )
            .values(
                duplicate_of_id=match.original_id,
                duplicate_score=str(match.score),
                duplicate_rule=match.rule,
                updated_at=now,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            stored.append(match)
    return stored


async def mark_not_duplicate(
    session: AsyncSession, transaction_id: int, account_ids: Sequence[int], *, now: datetime
) -> int | None:
    """The customer says the row is no duplicate: unlink it, and never link it again. The
    row's id; None when it is not a linked duplicate on one of `account_ids` (another
    customer's row answers the same). Conditional, so two racing undos cannot both win."""
    stmt = (
        update(TX)
        .where(
            TX.c.id == transaction_id,
            TX.c.account_id.in_(account_ids),
            TX.c.duplicate_of_id.is_not(None),
        )
        .values(
            duplicate_of_id=None,
            duplicate_score=None,
            duplicate_rule=None,
            not_duplicate_at=now,
            updated_at=now,
        )
        .returning(TX.c.id)
    )
    found = (await session.execute(stmt)).first()
    return None if found is None else int(found[0])
