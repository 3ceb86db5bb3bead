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
from sqlalchemy import Table
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


def _insert(session: AsyncSession, table: Table) -> Any:
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
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        prepared = dict(row)
        prepared["payload_hash"] = payload_hash(prepared)
        prepared["created_at"] = now
        prepared["updated_at"] = now
        unique[tuple(prepared[k] for k in identity)] = prepared
    batch = list(unique.values())

    columns = list(batch[0])
    stmt = _insert(session, table)
    updates = {c: stmt.excluded[c] for c in columns if c not in identity and c != "created_at"}
    stmt = stmt.on_conflict_do_update(
        index_elements=list(identity),
        set_=updates,
        where=table.c.payload_hash != stmt.excluded.payload_hash,
    ).returning(table.c.created_at)

    result = UpsertResult()
    chunk = max(1, _MAX_PARAMS // len(columns))
    for start in range(0, len(batch), chunk):
        part = batch[start : start + chunk]
        # executemany + RETURNING: SQLAlchemy's "insertmanyvalues" sends each chunk as one
        # multi-row INSERT, so this is one round trip, not one per row.
        touched = (await session.execute(stmt, part)).scalars().all()
        # A freshly inserted row carries this batch's created_at; an updated row keeps the
        # created_at of the batch that first inserted it.
        inserted = sum(1 for created in touched if created == now)
        result.inserted += inserted
        result.changed += len(touched) - inserted
        result.unchanged += len(part) - len(touched)
    result.unchanged += len(rows) - len(batch)
    return result
