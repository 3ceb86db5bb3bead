"""Booked history is immutable: the one owner of how a booked transaction may change.

A booked row is a fact a statement may already have reported. When the bank changes one of
its booked facts, or stops listing it, or lists it again, the row takes the bank's new state
(the ledger always equals what the bank lists) and a `transaction_revision` keeps the values
it had BEFORE, so a statement can be reproduced as it was reported (`queries.statements`,
`as_of`). Revisions are append-only, enforced by the database (triggers refuse UPDATE and
DELETE on both dialects).

Booked facts (a difference in any is a CHANGED revision): `status`, `amount_minor`,
`currency`, `booking_date`, `booked_at`, `balance_after_minor`, `counterparty_name`,
`counterparty_account`. The running balance is one because a statement's balances are
read from it. `account_id` is part of the identity (account, upstream id), so a row cannot
move between accounts in place: a bank that moves one shows a REMOVED row in the old
account and a new row in the other. Descriptions, categories and links are not booked facts:
they are updated in place. Pending rows have no history: a change to a pending row, and a
pending row booked under its own id, are plain updates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.append_only import make_append_only
from ledger.models import Transaction, TransactionRevision, table
from ledger.queries.results import REVISION, RevisionRow, fetch
from ledger.types import UTCDateTime
from ledger.writes import NO_SEED, TRANSACTION_IDENTITY, OnInsert, Seen, Watch, upsert

TX = table(Transaction)
REVISIONS = table(TransactionRevision)

CHANGED, REMOVED, RESTORED = "CHANGED", "REMOVED", "RESTORED"
BOOKED_FACTS = (
    "status",
    "amount_minor",
    "currency",
    "booking_date",
    "booked_at",
    "balance_after_minor",
    "counterparty_name",
    "counterparty_account",
)
# What a write reads back of the rows it finds stored: the id, whether it is removed, facts.
_WATCHED = ("id", "removed_at", *BOOKED_FACTS)
# The row's values a revision keeps (its columns of the same names).
_KEPT = (
    "status",
    "account_id",
    "booking_date",
    "booked_at",
    "amount_minor",
    "currency",
    "balance_after_minor",
    "counterparty_name",
    "counterparty_account",
    "description",
    "payload_hash",
)

make_append_only(REVISIONS)


@dataclass(frozen=True, slots=True)
class Revision:
    """A revision just recorded: the sync engine raises a sync issue from it. `fields` are
    the booked facts that differ (empty for a removal, or a row restored unchanged)."""

    transaction_id: int
    external_id: str
    kind: str
    fields: tuple[str, ...] = ()


@dataclass(slots=True)
class TransactionWrite:
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    revisions: list[Revision] = field(default_factory=list)
    all_new: bool = False  # as `UpsertResult.all_new`: every row was inserted


class _Inspector:
    """Sees the page's stored rows before the write changes them and keeps their history."""

    def __init__(self, run_id: int | None, now: datetime) -> None:
        self.run_id = run_id
        self.now = now
        self.revisions: list[Revision] = []
        self.restored: list[int] = []

    async def before_update(self, session: AsyncSession, seen: list[Seen]) -> None:
        by_kind: dict[str, list[int]] = defaultdict(list)
        facts = range(2, len(_WATCHED))
        for item in seen:
            stored, incoming = item.stored, item.incoming
            changed = tuple(_WATCHED[i] for i in facts if stored[i] != incoming[i])
            transaction_id = int(stored[0])
            if stored[1] is not None:
                kind = RESTORED
                self.restored.append(transaction_id)
            elif stored[2] == "BOOKED" and changed:
                kind = CHANGED
            else:
                continue
            by_kind[kind].append(transaction_id)
            self.revisions.append(
                Revision(transaction_id, str(item.row["external_id"]), kind, changed)
            )
        for kind, ids in by_kind.items():
            await _record(session, ids, kind, run_id=self.run_id, now=self.now)


async def write_transactions(
    session: AsyncSession,
    rows: Sequence[Mapping[str, Any]],
    *,
    run_id: int | None,
    links: tuple[str, ...],
    now: datetime,
    on_insert: OnInsert = NO_SEED,
) -> TransactionWrite:
    """`ledger.writes.upsert` of transaction rows by (account, upstream id), keeping booked
    history: a stored BOOKED row whose booked facts differ gets a CHANGED revision with its
    old values, then takes the new ones; a removed row listed again gets a RESTORED
    revision and counts again. A page of only new rows costs what a plain upsert costs;
    one that meets stored rows reads them back once (the lookup the upsert makes anyway on
    SQLite)."""
    inspector = _Inspector(run_id, now)
    watch = Watch(_WATCHED, inspector.before_update, flags=("removed_at",))
    result = await upsert(
        session,
        TX,
        rows,
        identity=TRANSACTION_IDENTITY,
        links=links,
        now=now,
        watch=watch,
        on_insert=on_insert,
    )
    if inspector.restored:
        await session.execute(
            update(TX)
            .where(TX.c.id.in_(inspector.restored))
            .values(removed_at=None, updated_at=now)
        )
    return TransactionWrite(
        result.inserted, result.changed, result.unchanged, inspector.revisions, result.all_new
    )


async def unlisted(
    session: AsyncSession,
    account_id: int,
    *,
    since: datetime,
    until: datetime | None,
    listed: Collection[str],
) -> set[str]:
    """Upstream ids of the account's booked, counted rows with `booked_at` in [since,
    until] (None: no end) that are not in `listed` (the ids of one complete read of that
    window). Rows without a `booked_at` are in no window and never judged."""
    query = select(TX.c.external_id).where(
        TX.c.account_id == account_id,
        TX.c.status == "BOOKED",
        TX.c.removed_at.is_(None),
        TX.c.superseded_at.is_(None),
        TX.c.booked_at >= since,
    )
    if until is not None:
        query = query.where(TX.c.booked_at <= until)
    return {ext for ext in (await session.execute(query)).scalars() if ext not in listed}


async def remove(
    session: AsyncSession,
    account_id: int,
    external_ids: Collection[str],
    *,
    run_id: int | None,
    now: datetime,
) -> list[Revision]:
    """The bank no longer lists these booked rows of the account: they stop counting
    (`removed_at`) and a REMOVED revision keeps each. Rows already removed, pending or
    superseded are left alone."""
    if not external_ids:
        return []
    found = await session.execute(
        select(TX.c.id, TX.c.external_id).where(
            TX.c.account_id == account_id,
            TX.c.external_id.in_(sorted(external_ids)),
            TX.c.status == "BOOKED",
            TX.c.removed_at.is_(None),
            TX.c.superseded_at.is_(None),
        )
    )
    gone = [(int(i), ext) for i, ext in found]
    if not gone:
        return []
    ids = [i for i, _ in gone]
    await _record(session, ids, REMOVED, run_id=run_id, now=now)
    # `updated_at` moves too: integrators reading `updatedSince` learn of the removal.
    await session.execute(update(TX).where(TX.c.id.in_(ids)).values(removed_at=now, updated_at=now))
    return [Revision(i, ext, REMOVED) for i, ext in gone]


async def revisions_of(
    session: AsyncSession, transaction_ids: Sequence[int]
) -> dict[int, list[RevisionRow]]:
    """Each transaction's revisions, oldest first (one statement, for a dataloader).
    Transactions without any are absent."""
    if not transaction_ids:
        return {}
    stmt = (
        select(*REVISION.columns)
        .where(REVISIONS.c.transaction_id.in_(sorted(set(transaction_ids))))
        .order_by(REVISIONS.c.transaction_id, REVISIONS.c.recorded_at, REVISIONS.c.id)
    )
    found: dict[int, list[RevisionRow]] = defaultdict(list)
    for row in await fetch(session, stmt, REVISION):
        found[row.transaction_id].append(row)
    return dict(found)


async def _record(
    session: AsyncSession, ids: Sequence[int], kind: str, *, run_id: int | None, now: datetime
) -> None:
    """Copy the rows' current values into revisions, inside the database (before the
    caller changes the rows)."""
    copied = select(
        TX.c.id,
        literal(run_id, REVISIONS.c.sync_run_id.type),
        literal(kind),
        literal(now, UTCDateTime()),
        *(TX.c[c] for c in _KEPT),
    ).where(TX.c.id.in_(ids))
    columns = ["transaction_id", "sync_run_id", "kind", "recorded_at", *_KEPT]
    await session.execute(insert(REVISIONS).from_select(columns, copied))
