"""The ledger proves itself against the bank: the one owner of that check.

Per account, the counted BOOKED rows are checked against the bank's reported booked balance
B and, where the bank sends one, against each row's running balance (`balance_after`), day
by day so that the order of rows within a day never matters:

- a day whose every row carries a balance: with the multisets S = {balance - amount} (the
  balance before each row) and E = {balance} (after it), a day that is one unbroken chain
  leaves exactly one opening in S - E and one closing in E - S. Anything else (two
  leftovers, one side only) breaks the chain on that day. A day whose S and E cancel out
  (its amounts sum to zero: it ends where it began) carries the running balance through;
- a day with a row without a balance adds its amounts to the running balance, if known;
- across days: each day's opening must equal the running balance so far;
- the ledger's booked balance = the opening implied by the first day with a balance (its
  opening minus the amounts of the days before it) + every counted amount; it must equal B,
  and that is the same as the last closing (plus any later amounts) equalling B.

Without any balance (banks that send none) only the weaker check is possible: the implied
opening B - sum(amounts) must equal the one recorded at the account's last reconciled
check (the first check records it). That proves nothing was lost or added between two
checks, but cannot say on which day; a row lost before the first check stays unseen.

The opening (the balance before the ledger's first counted row) is the one thing the
running balances cannot check: a bank that leaves out an account's earliest row leaves a
chain that holds from the next one on, with the lost amount absorbed into the opening. So
the opening is judged apart (`judge_opening`): against the opening balance the bank reports
for the account (Alif's OPENING_BALANCE attribute): equal, PROVEN; different, LOST (the run
is UNRECONCILED, by the difference, on the first listed day). A bank that reports none gives
no evidence: an opening of zero is PROVEN (OBP opens every account at zero, so a history
that starts from zero lacks nothing before its first row), any other is UNPROVEN (the bank
lists the account from the middle of its life: it keeps only recent history, or lost the
rows before), and the check says so rather than claim it.

`first_day` locates a gap: the first day whose own chain breaks; for a break between days,
the last day before it with rows (a missing row may have ended that day, since the order
within a day is unknown); for a chain that holds but ends off B, the last day with rows.
The missing or changed rows lie between `first_day` and the day the break shows.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, insert, literal_column, select, union_all
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ledger import sqlite_driver
from ledger.models import Account, AccountReconciliation, Transaction, table
from ledger.money import Money
from ledger.queries import live, sum_minor

TX = table(Transaction)
ACCOUNTS = table(Account)
CHECKS = table(AccountReconciliation)


@dataclass(frozen=True, slots=True)
class Day:
    """One booking day of an account's counted booked rows, as the check needs it:
    `surplus` is the multiset {balance - amount} minus {balance} over the day's rows that
    carry a balance (value -> count, positive on the opening side, zero counts left out)."""

    day: date
    total_minor: int
    rows: int
    with_balance: int
    surplus: Mapping[int, int]


class Opening(StrEnum):
    """What the check knows of the balance before the ledger's first row (module doc)."""

    PROVEN = "PROVEN"  # the bank's reported opening, or zero
    UNPROVEN = "UNPROVEN"  # the bank reports none and it is not zero
    LOST = "LOST"  # it differs from the bank's reported opening: rows before are missing


@dataclass(frozen=True, slots=True)
class Reconciliation:
    reconciled: bool
    difference_minor: int | None  # bank - ledger; None when the bank's balance is unknown
    first_day: date | None
    ledger_booked_minor: int
    bank_booked_minor: int | None
    # bank - every counted amount: the balance before the ledger's first row.
    implied_opening_minor: int | None
    # The balance before the ledger's first counted row, as the check found it.
    opening_minor: int = 0
    # The booking day of the ledger's first counted row (None: no rows).
    first_row_day: date | None = None
    opening: Opening = Opening.UNPROVEN


@dataclass(frozen=True, slots=True)
class ReconciliationRow:
    """The latest check of an account, as the API shows it."""

    account_id: int
    sync_run_id: int
    checked_at: datetime
    reconciled: bool
    bank_booked: Money | None
    ledger_booked: Money
    difference: Money | None
    first_day: date | None
    opening: Money | None = None
    opening_state: Opening | None = None  # None: checked before openings were judged
    proven_from: datetime | None = None
    history_proven_at: datetime | None = None


def _ends(surplus: Mapping[int, int]) -> tuple[int, int] | None:
    """(opening, closing) of a day that is one chain, else None."""
    if sorted(surplus.values()) != [-1, 1]:
        return None
    by_count = {n: value for value, n in surplus.items()}
    return by_count[1], by_count[-1]


def reconcile(
    days: Iterable[Day], bank_booked_minor: int | None, recorded_opening_minor: int | None
) -> Reconciliation:
    """The check of module doc over `days` in booking order (see there)."""
    running: int | None = None  # the balance after the days so far, once anchored
    before_anchor = 0  # amounts of the days before the first day with balances
    opening: int | None = None  # the balance before the first day
    total = 0
    previous: date | None = None  # the last day with rows
    first_day: date | None = None
    first_row_day: date | None = None
    for day in days:
        if first_row_day is None and day.rows:
            first_row_day = day.day
        total += day.total_minor
        if first_day is not None:
            continue  # keep summing: the ledger's balance is still reported
        if day.with_balance < day.rows:
            if running is None:
                before_anchor += day.total_minor
            else:
                running += day.total_minor
            previous = day.day
            continue
        if not day.surplus:  # ends where it began: carries the running balance through
            previous = day.day
            continue
        ends = _ends(day.surplus)
        if ends is None:
            first_day = day.day
            continue
        start, end = ends
        if running is None:
            opening = start - before_anchor
        elif start != running:
            first_day = previous or day.day
            continue
        running = end
        previous = day.day
    implied = None if bank_booked_minor is None else bank_booked_minor - total
    if opening is None:
        # No balance anywhere: the weaker check against the last reconciled one.
        opening = recorded_opening_minor if recorded_opening_minor is not None else implied
    ledger = total + (opening or 0)
    difference = None if bank_booked_minor is None else bank_booked_minor - ledger
    if first_day is None and difference:
        first_day = previous
    return Reconciliation(
        reconciled=first_day is None and not difference,
        difference_minor=difference,
        first_day=first_day,
        ledger_booked_minor=ledger,
        bank_booked_minor=bank_booked_minor,
        implied_opening_minor=implied,
        opening_minor=ledger - total,
        first_row_day=first_row_day,
    )


def judge_opening(result: Reconciliation, bank_opening_minor: int | None) -> Reconciliation:
    """`result` with its opening judged (module doc): a LOST opening fails the check, by
    the amount the listing lacks before its first row, on the first listed day (the lost
    rows lie on or before it). A check that already failed keeps its own difference."""
    if bank_opening_minor is None:
        verdict = Opening.PROVEN if result.opening_minor == 0 else Opening.UNPROVEN
        return replace(result, opening=verdict)
    if result.opening_minor == bank_opening_minor:
        return replace(result, opening=Opening.PROVEN)
    if not result.reconciled:
        return replace(result, opening=Opening.LOST)
    return replace(
        result,
        opening=Opening.LOST,
        reconciled=False,
        difference_minor=result.opening_minor - bank_opening_minor,
        first_day=result.first_row_day,
    )


def _counted(account_id: Any) -> tuple[ColumnElement[bool], ...]:
    """The rows the check counts: the account's booked, live rows."""
    return (TX.c.account_id == account_id, TX.c.status == "BOOKED", live())


# The counted rows in booking order, as `ix_transaction_account_booking` holds them: SQLite
# walks that index, so the read needs no sort (`_grouped` groups it as it streams).
_ROWS = (
    select(TX.c.booking_date, TX.c.amount_minor, TX.c.balance_after_minor)
    .where(*_counted(bindparam("account_id")))
    .order_by(TX.c.booking_date)
    .compile(dialect=sqlite.dialect(paramstyle="qmark"))
)
_ROWS_SQL = str(_ROWS)
_NO_DAY = object()  # before the first row: no day is open yet


async def _days(session: AsyncSession, account_id: int) -> list[Day]:
    """The account's days, whatever the number of its rows: memory follows one day.

    On SQLite the rows are grouped as they stream from the index, in one trip to the
    driver's thread: SQLite's own GROUP BY of the balance multisets sorted two entries a
    row in memory (38 MiB at 500,000 rows, the peak of a 1M sync's end). PostgreSQL groups
    them in SQL (`_days_in_sql`), within its own `work_mem`."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return await _days_in_sql(session, account_id)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    params = _ROWS.construct_params({"account_id": account_id})
    ordered = tuple(params[name] for name in _ROWS.positiontup or ())
    return await sqlite_driver.on_thread(driver, _grouped, ordered)


def _grouped(db: sqlite3.Connection, params: tuple[Any, ...]) -> list[Day]:
    """`Day`s of the account's counted rows, read in booking order (see `_days`)."""
    days: list[Day] = []
    current: object = _NO_DAY
    total = rows = carrying = 0
    surplus: dict[int, int] = {}

    def close() -> None:
        if rows:
            day = None if current is None else date.fromisoformat(str(current))
            kept = {value: count for value, count in surplus.items() if count}
            days.append(Day(day, total, rows, carrying, kept))  # type: ignore[arg-type]

    for day_text, amount, balance in db.execute(_ROWS_SQL, params):
        if day_text != current:
            close()
            current, total, rows, carrying, surplus = day_text, 0, 0, 0, {}
        total += amount
        rows += 1
        if balance is not None:
            carrying += 1
            before = balance - amount
            surplus[before] = surplus.get(before, 0) + 1
            surplus[balance] = surplus.get(balance, 0) - 1
    close()
    return days


async def _days_in_sql(session: AsyncSession, account_id: int) -> list[Day]:
    """The account's days, grouped in SQL: one row per day and about two per day for the
    balance multisets."""
    counted = _counted(account_id)
    totals = (
        select(
            TX.c.booking_date,
            sum_minor(TX.c.amount_minor),
            func.count(),
            func.count(TX.c.balance_after_minor),
        )
        .where(*counted)
        .group_by(TX.c.booking_date)
        .order_by(TX.c.booking_date)
    )
    carried = (*counted, TX.c.balance_after_minor.is_not(None))
    sides = union_all(
        select(
            TX.c.booking_date.label("day"),
            (TX.c.balance_after_minor - TX.c.amount_minor).label("value"),
            literal_column("1").label("side"),
        ).where(*carried),
        select(
            TX.c.booking_date.label("day"),
            TX.c.balance_after_minor.label("value"),
            literal_column("-1").label("side"),
        ).where(*carried),
    ).subquery()
    net = func.sum(sides.c.side)
    leftovers = (
        select(sides.c.day, sides.c.value, net)
        .group_by(sides.c.day, sides.c.value)
        .having(net != 0)
    )
    surplus: dict[date, dict[int, int]] = defaultdict(dict)
    for day, value, count in await session.execute(leftovers):
        surplus[day][int(value)] = int(count)
    return [
        Day(day, int(amount), int(rows), int(carrying), surplus.get(day, {}))
        for day, amount, rows, carrying in await session.execute(totals)
    ]


async def _recorded_opening(session: AsyncSession, account_id: int) -> int | None:
    """The implied opening recorded at the account's last reconciled check."""
    stmt = (
        select(CHECKS.c.implied_opening_minor)
        .where(
            CHECKS.c.account_id == account_id,
            CHECKS.c.reconciled.is_(True),
            CHECKS.c.implied_opening_minor.is_not(None),
        )
        .order_by(CHECKS.c.checked_at.desc(), CHECKS.c.id.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def check_account(
    session: AsyncSession,
    account_id: int,
    bank_booked_minor: int | None,
    bank_opening_minor: int | None = None,
) -> Reconciliation:
    """Check the account's counted booked rows against the bank's booked balance (None:
    the bank reported none; the running balances are still checked) and its opening
    against the one the bank reports (None: it reports none)."""
    days = await _days(session, account_id)
    result = reconcile(days, bank_booked_minor, await _recorded_opening(session, account_id))
    return judge_opening(result, bank_opening_minor)


async def record(
    session: AsyncSession,
    run_id: int,
    account_id: int,
    result: Reconciliation,
    *,
    now: datetime,
    proven_from: datetime | None = None,
    history_proven_at: datetime | None = None,
) -> None:
    """Store the check; `proven_from`: the bank instant from which this run's read of the
    account proved the listing (None: its read had gaps); `history_proven_at`: when a run
    last proved the account's whole history (this one's `now` if it did)."""
    currency = select(ACCOUNTS.c.currency).where(ACCOUNTS.c.id == account_id).scalar_subquery()
    await session.execute(
        insert(CHECKS).values(
            sync_run_id=run_id,
            account_id=account_id,
            checked_at=now,
            currency=currency,
            bank_booked_minor=result.bank_booked_minor,
            ledger_booked_minor=result.ledger_booked_minor,
            difference_minor=result.difference_minor,
            implied_opening_minor=result.implied_opening_minor,
            first_day=result.first_day,
            reconciled=result.reconciled,
            opening_minor=result.opening_minor,
            opening=result.opening.value,
            proven_from=proven_from,
            history_proven_at=history_proven_at,
        )
    )


async def latest(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, ReconciliationRow]:
    """Each account's latest check (accounts never checked are absent), in one statement."""
    if not account_ids:
        return {}
    ranked = (
        select(
            CHECKS,
            func.row_number()
            .over(
                partition_by=CHECKS.c.account_id,
                order_by=(CHECKS.c.checked_at.desc(), CHECKS.c.id.desc()),
            )
            .label("rank"),
        )
        .where(CHECKS.c.account_id.in_(sorted(set(account_ids))))
        .subquery()
    )
    stmt = select(
        ranked.c.account_id,
        ranked.c.sync_run_id,
        ranked.c.checked_at,
        ranked.c.reconciled,
        ranked.c.currency,
        ranked.c.bank_booked_minor,
        ranked.c.ledger_booked_minor,
        ranked.c.difference_minor,
        ranked.c.first_day,
        ranked.c.opening_minor,
        ranked.c.opening,
        ranked.c.proven_from,
        ranked.c.history_proven_at,
    ).where(ranked.c.rank == 1)
    found: dict[int, ReconciliationRow] = {}
    for (
        account_id,
        run_id,
        at,
        reconciled,
        currency,
        bank,
        ledger,
        difference,
        day,
        opening_minor,
        opening,
        proven_from,
        history_proven_at,
    ) in await session.execute(stmt):
        found[account_id] = ReconciliationRow(
            account_id=account_id,
            sync_run_id=run_id,
            checked_at=at,
            reconciled=reconciled,
            bank_booked=None if bank is None else Money(bank, currency),
            ledger_booked=Money(ledger, currency),
            difference=None if difference is None else Money(difference, currency),
            first_day=day,
            opening=None if opening_minor is None else Money(opening_minor, currency),
            opening_state=None if opening is None else Opening(opening),
            proven_from=proven_from,
            history_proven_at=history_proven_at,
        )
    return found
