"""Batch upserts by upstream identity, in one statement per batch.

Every upstream-sourced row carries a `payload_hash` of its data columns. The upsert is
`INSERT ... ON CONFLICT (identity) DO UPDATE ... WHERE payload_hash differs ... RETURNING`,
so an unchanged re-delivery updates nothing (not even `updated_at`), and the rows that come
back are exactly the inserted and changed ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, literal, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.types import utcnow

IDENTITY = ("connection_id", "external_id")
_TIMESTAMPS = ("created_at", "updated_at")
# PostgreSQL and SQLite both cap bound parameters near 32k per statement.
_MAX_PARAMS = 30_000


@dataclass(slots=True)
class UpsertResult:
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.inserted += other.inserted
        self.changed += other.changed
        self.unchanged += other.unchanged
        return self

    @property
    def total(self) -> int:
        return self.inserted + self.changed + self.unchanged


def payload_hash(row: Mapping[str, Any]) -> str:
    """A stable digest of a row's data columns (timestamps and the hash itself excluded)."""
    data = {k: v for k, v in row.items() if k not in _TIMESTAMPS and k != "payload_hash"}
    encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(encoded).hexdigest()


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT on both databases."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    identity: tuple[str, ...] = IDENTITY,
    now: datetime | None = None,
) -> UpsertResult:
    """Insert new rows, update changed ones, leave unchanged ones alone; count each.

    The caller owns the transaction: a sync page and its cursor commit together.
    Duplicate identities within `rows` collapse to the last one (a re-sent page is not an
    error), since one statement may not touch the same row twice.
    """
    if not rows:
        return UpsertResult()
    now = now or utcnow()
    hashed = "payload_hash" in table.c
    stamps = [c for c in _TIMESTAMPS if c in table.c]
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        prepared = dict(row)
        if hashed:
            prepared["payload_hash"] = payload_hash(prepared)
        for stamp in stamps:
            prepared[stamp] = now
        unique[tuple(prepared[k] for k in identity)] = prepared
    batch = list(unique.values())

    columns = list(batch[0])
    stmt = insert_for(session, table)
    updates = {c: stmt.excluded[c] for c in columns if c not in identity and c != "created_at"}
    # Only a real difference updates a row: the payload hash where the table keeps one,
    # else every data column compared null-safely.
    compared = ["payload_hash"] if hashed else [c for c in updates if c not in _TIMESTAMPS]
    stmt = stmt.on_conflict_do_update(
        index_elements=list(identity),
        set_=updates,
        where=or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared)),
    ).returning(table.c.created_at if "created_at" in table.c else literal(None))

    result = UpsertResult()
    chunk = max(1, _MAX_PARAMS // len(columns))
    for start in range(0, len(batch), chunk):
        part = batch[start : start + chunk]
        # executemany + RETURNING: SQLAlchemy's "insertmanyvalues" sends each chunk as one
        # multi-row INSERT, so this is one round trip, not one per row.
        touched = (await session.execute(stmt, part)).scalars().all()
        # A freshly inserted row carries this batch's created_at; an updated row keeps the
        # created_at of the batch that first inserted it. (Without a created_at column every
        # touched row counts as changed.)
        inserted = sum(1 for created in touched if created == now)
        result.inserted += inserted
        result.changed += len(touched) - inserted
        result.unchanged += len(part) - len(touched)
    result.unchanged += len(rows) - len(batch)
    return result
