"""Ledger-side state of a sync: runs (with a lease), cursors, issues and reference links.

The sync engine in `connectors/` decides what to fetch; this module owns how the result is
stored. Every function takes the caller's session, so a page of records, its links and its
cursor commit in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, and_, exists, func, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import (
    BalanceSnapshot,
    Card,
    ServicePayment,
    SyncCursor,
    SyncIssueRow,
    SyncRun,
    Transaction,
    Transfer,
    TransferEvent,
    table,
)
from ledger.writes import _dialect, _driver, _sqlite_datetime, insert_for, lookup

TX = table(Transaction)
RUNS = table(SyncRun)
CURSORS = table(SyncCursor)
BALANCES = table(BalanceSnapshot)


# --- runs ---------------------------------------------------------------------------------


class Trigger(StrEnum):
    """How a run was started, recorded on it: the consent limits count only UNATTENDED."""

    UNATTENDED = "UNATTENDED"  # the scheduler or an operator: `alif-graph sync`
    CUSTOMER = "CUSTOMER"  # the customer, present, asked for it (`connectionRefresh`)
    LINK = "LINK"  # the read that completes linking a bank, in the customer's own flow


async def start_run(
    session: AsyncSession,
    connection_id: int,
    *,
    now: datetime,
    lease: timedelta,
    trigger: Trigger = Trigger.UNATTENDED,
) -> int | None:
    """Open a RUNNING sync run, or return None when another live one holds the connection.

    A RUNNING run whose heartbeat is older than `lease` belonged to a killed process; it is
    marked ABANDONED so this one may start. The partial unique index settles races.
    """
    await session.execute(
        update(RUNS)
        .where(
            RUNS.c.connection_id == connection_id,
            RUNS.c.status == "RUNNING",
            RUNS.c.heartbeat_at < now - lease,
        )
        .values(status="ABANDONED", finished_at=now)
    )
    try:
        async with session.begin_nested():
            run_id = (
                await session.execute(
                    insert(RUNS)
                    .values(
                        connection_id=connection_id,
                        started_at=now,
                        heartbeat_at=now,
                        trigger=trigger.value,
                    )
                    .returning(RUNS.c.id)
                )
            ).scalar_one()
    except IntegrityError:
        return None
    return int(run_id)


@dataclass(slots=True)
class RunStats:
    pages: int = 0
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    issues: int = 0


async def record_progress(
    session: AsyncSession, run_id: int, stats: RunStats, *, now: datetime
) -> None:
    """Store the counters so far and renew the lease."""
    await session.execute(
        update(RUNS)
        .where(RUNS.c.id == run_id)
        .values(
            heartbeat_at=now,
            pages=stats.pages,
            inserted=stats.inserted,
            changed=stats.changed,
            unchanged=stats.unchanged,
            issues=stats.issues,
        )
    )


async def finish_run(
    session: AsyncSession,
    run_id: int,
    stats: RunStats,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    await record_progress(session, run_id, stats, now=now)
    await session.execute(
        update(RUNS).where(RUNS.c.id == run_id).values(status=status, finished_at=now, error=error)
    )


async def add_issues(session: AsyncSession, run_id: int, issues: Sequence[dict[str, Any]]) -> None:
    if issues:
        await session.execute(
            insert(table(SyncIssueRow)), [{"sync_run_id": run_id, **issue} for issue in issues]
        )


# --- cursors ------------------------------------------------------------------------------


@dataclass(slots=True)
class Cursor:
    """Progress through one upstream stream.

    `window_from` and `offset` describe a read in progress (no window: none in progress);
    `high_water` is the newest upstream timestamp stored by the last completed read.
    """

    window_from: datetime | None = None
    offset: int = 0
    high_water: datetime | None = None

    @property
    def in_progress(self) -> bool:
        return self.window_from is not None


async def load_cursor(session: AsyncSession, connection_id: int, stream: str) -> Cursor:
    row = (
        await session.execute(
            select(CURSORS.c.window_from, CURSORS.c.offset, CURSORS.c.high_water).where(
                CURSORS.c.connection_id == connection_id, CURSORS.c.stream == stream
            )
        )
    ).first()
    return Cursor(row[0], row[1], row[2]) if row else Cursor()


async def save_cursor(
    session: AsyncSession, connection_id: int, stream: str, cursor: Cursor, *, now: datetime
) -> None:
    # Saved once per page: a plain UPDATE of the existing row is the common case, the
    # INSERT only for a stream's first page (the lease keeps other writers away).
    values = {
        "window_from": cursor.window_from,
        "offset": cursor.offset,
        "high_water": cursor.high_water,
        "updated_at": now,
    }
    saved = await session.execute(
        update(CURSORS)
        .where(CURSORS.c.connection_id == connection_id, CURSORS.c.stream == stream)
        .values(values)
    )
    if saved.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(
            insert(CURSORS).values(connection_id=connection_id, stream=stream, **values)
        )


# --- lookups and small writes ---------------------------------------------------------------


async def external_ids(session: AsyncSession, model: Any, connection_id: int) -> dict[str, int]:
    """external_id -> ledger id for a connection's accounts, cards, ... (small tables)."""
    t = table(model)
    rows = await session.execute(
        select(t.c.external_id, t.c.id).where(t.c.connection_id == connection_id)
    )
    return {ext: int(pk) for ext, pk in rows}


async def latest_balances(
    session: AsyncSession, account_ids: Iterable[int]
) -> dict[tuple[int, str], int]:
    """(account id, balance type) -> newest stored amount in minor units."""
    ids = list(account_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(BALANCES.c.account_id, BALANCES.c.type, BALANCES.c.amount_minor)
        .where(BALANCES.c.account_id.in_(ids))
        .order_by(BALANCES.c.as_of, BALANCES.c.id)
    )
    # Later snapshots overwrite earlier ones.
    return {(account_id, kind): amount for account_id, kind, amount in rows}


async def add_balance_snapshots(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    if rows:
        await session.execute(insert(BALANCES), list(rows))
    return len(rows)


_EVENTS = table(TransferEvent)
_EVENT_KEYS = ("transfer_id", "status", "at", "note")
_EVENT_IDENTITY = ["transfer_id", "status", "at"]
_EVENTS_SQLITE = sqlite.insert(_EVENTS).on_conflict_do_nothing(index_elements=_EVENT_IDENTITY)
_EVENTS_COMPILED = _EVENTS_SQLITE.compile(
    dialect=sqlite.dialect(paramstyle="qmark"), column_keys=list(_EVENT_KEYS)
)
assert tuple(_EVENTS_COMPILED.positiontup or ()) == _EVENT_KEYS
_EVENTS_SQL = str(_EVENTS_COMPILED)


async def add_transfer_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Store status-history steps not stored yet; returns how many were new."""
    if not rows:
        return 0
    # History steps are immutable facts: insert the new ones, ignore the known ones.
    if _dialect(session) == "sqlite":
        # Straight through the driver, counted by its rowcount (ignored rows change
        # nothing): SQLAlchemy's executemany with RETURNING cost more than the insert.
        values = [
            (r["transfer_id"], r["status"], _sqlite_datetime(r["at"]), r["note"]) for r in rows
        ]
        driver = await _driver(session)
        return int((await driver.executemany(_EVENTS_SQL, values)).rowcount)
    stmt = insert_for(session, _EVENTS).on_conflict_do_nothing(index_elements=_EVENT_IDENTITY)
    inserted = (await session.execute(stmt.returning(_EVENTS.c.id), list(rows))).all()
    return len(inserted)


# --- links --------------------------------------------------------------------------------

# A transaction's references to rows of other tables: (table, external id column, link column).
REFERENCES = (
    (table(Card), "card_external_id", "card_id"),
    (table(Transfer), "transfer_external_id", "transfer_id"),
    (table(ServicePayment), "service_payment_external_id", "service_payment_id"),
)
LINKS = tuple(link for _, _, link in REFERENCES)


async def ids_of(
    session: AsyncSession, target: Table, connection_id: int, external_ids: Iterable[str]
) -> dict[str, int]:
    """external_id -> ledger id of the connection's rows among `external_ids`."""
    found = await lookup(
        session,
        target,
        {"connection_id": connection_id},
        "external_id",
        list(set(external_ids)),
        ("id",),
    )
    return {ext: int(values[0]) for ext, values in found.items()}


async def resolve_references(
    session: AsyncSession, connection_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Set each transaction row's card, transfer and service-payment ids before it is
    written, so a row is written once: one lookup per kind of reference for the page.

    These are link columns (outside the payload hash, see `ledger.writes`): a reference not
    stored yet stays None and is filled by a later sync that finds it.
    """
    for target, external, link in REFERENCES:
        wanted = {row[external] for row in rows if row[external]}
        ids = await ids_of(session, target, connection_id, wanted) if wanted else {}
        for row in rows:
            row[link] = ids.get(row[external])  # None for no reference


async def link_replacements(
    session: AsyncSession, account_id: int, rows: Sequence[Mapping[str, Any]], *, now: datetime
) -> None:
    """Link booked rows to the pending rows they replace, after the page is written (the
    pending row may be in the same page). Set-based, restricted to the rows that name one."""
    replacing = [r["external_id"] for r in rows if r.get("replaces_external_id")]
    if not replacing:
        return
    replaced = TX.alias("replaced")
    await session.execute(
        update(TX)
        .where(
            TX.c.account_id == account_id,
            TX.c.external_id.in_(replacing),
            TX.c.replaces_id.is_(None),
        )
        .values(
            replaces_id=select(replaced.c.id)
            .where(
                replaced.c.account_id == account_id,
                replaced.c.external_id == TX.c.replaces_external_id,
            )
            .scalar_subquery()
        )
    )
    await _supersede_replaced(session, account_id, replacing, now=now)


async def _supersede_replaced(
    session: AsyncSession, account_id: int, replacing: Sequence[str], *, now: datetime
) -> None:
    """Pending rows replaced by these booked rows stop counting; the customer's own
    category follows the money from the pending row to the booked one."""
    in_page = and_(TX.c.account_id == account_id, TX.c.external_id.in_(replacing))
    pending = TX.alias("pending")
    await session.execute(
        update(TX)
        .where(in_page, TX.c.replaces_id.is_not(None), TX.c.user_category.is_(None))
        .values(
            user_category=select(pending.c.user_category)
            .where(pending.c.id == TX.c.replaces_id)
            .scalar_subquery()
        )
    )
    booked = TX.alias("booked")
    replaced = select(booked.c.replaces_id).where(
        booked.c.account_id == account_id,
        booked.c.external_id.in_(replacing),
        booked.c.replaces_id.is_not(None),
    )
    await session.execute(
        update(TX)
        .where(TX.c.id.in_(replaced), TX.c.superseded_at.is_(None))
        .values(superseded_at=now)
    )


@dataclass(frozen=True, slots=True)
class OpenPending:
    id: int
    external_id: str
    amount_minor: int
    at: datetime  # the bank instant (midnight of its day for rows stored without one)


def _pending_instant(booked_at: datetime | None, booking_date: date) -> datetime:
    return booked_at or datetime.combine(booking_date, time(), UTC)


_OPEN_PENDING = and_(TX.c.status == "PENDING", TX.c.superseded_at.is_(None))


async def open_pending(session: AsyncSession, account_id: int) -> list[OpenPending]:
    """The account's pending rows still counted (few: holds live days, not years)."""
    found = await session.execute(
        select(TX.c.id, TX.c.external_id, TX.c.amount_minor, TX.c.booked_at, TX.c.booking_date)
        .where(TX.c.account_id == account_id, _OPEN_PENDING)
        .order_by(TX.c.id)
    )
    return [OpenPending(int(a), b, int(c), _pending_instant(d, e)) for a, b, c, d, e in found]


async def oldest_open_pending(
    session: AsyncSession, account_id: int, *, not_before: datetime
) -> datetime | None:
    """The instant of the account's oldest unsettled pending row younger than `not_before`
    (older ones are past the horizon: the next read retires them without re-reading)."""
    instants = [p.at for p in await open_pending(session, account_id) if p.at >= not_before]
    return min(instants, default=None)


async def newest_booking(session: AsyncSession, account_id: int) -> datetime | None:
    return (
        await session.execute(select(func.max(TX.c.booked_at)).where(TX.c.account_id == account_id))
    ).scalar_one()


async def retire_pending(
    session: AsyncSession,
    account_id: int,
    pending: OpenPending,
    *,
    now: datetime,
    match: timedelta = timedelta(days=45),
) -> int | None:
    """Retire a pending row the bank no longer lists, or one past the pending horizon.

    It is linked to the booked row that most likely replaced it (same account and amount,
    booked within `match` after it, not replacing anything yet), then stops counting. A
    bank that names the replaced row (Alif's PENDING_TRANSACTION_ID) never gets here.
    Returns the successor's id, if one was found.
    """
    other = TX.alias("other")
    successor = (
        await session.execute(
            select(TX.c.id)
            .where(
                TX.c.account_id == account_id,
                TX.c.status == "BOOKED",
                TX.c.amount_minor == pending.amount_minor,
                TX.c.booking_date >= pending.at.date(),
                TX.c.booking_date <= (pending.at + match).date(),
                TX.c.replaces_id.is_(None),
                ~exists().where(other.c.replaces_id == TX.c.id),
            )
            .order_by(TX.c.booking_date, TX.c.id)
            .limit(1)
        )
    ).scalar_one_or_none()
    if successor is not None:
        replaced = TX.alias("replaced")
        await session.execute(
            update(TX)
            .where(TX.c.id == successor)
            .values(
                replaces_id=pending.id,
                user_category=func.coalesce(
                    TX.c.user_category,
                    select(replaced.c.user_category)
                    .where(replaced.c.id == pending.id)
                    .scalar_subquery(),
                ),
            )
        )
    await session.execute(update(TX).where(TX.c.id == pending.id).values(superseded_at=now))
    return int(successor) if successor is not None else None
