"""Batch upserts by upstream identity, in one statement per batch.

Every upstream-sourced row carries a `payload_hash` of its data columns. The upsert is
`INSERT ... ON CONFLICT (identity) DO UPDATE ... WHERE payload_hash differs ... RETURNING`,
so an unchanged re-delivery updates nothing (not even `updated_at`), and the rows that come
back are exactly the inserted and changed ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Boolean, Date, Table, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.types import UTCDateTime, utcnow

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
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


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
    duplicates = len(rows) - len(batch)
    if hashed and _dialect(session) == "sqlite":
        result = await _upsert_sqlite(session, table, batch, identity)
        result.unchanged += duplicates
        return result

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
    result.unchanged += duplicates
    return result


# --- SQLite: no network, so the bottleneck is per-row work, not round trips ----------------


async def _upsert_sqlite(
    session: AsyncSession, table: Table, batch: list[dict[str, Any]], identity: tuple[str, ...]
) -> UpsertResult:
    """Classify rows by their stored payload hash, then write only new and changed ones
    through the driver's prepared `executemany`.

    The multi-row `INSERT ... RETURNING` used for PostgreSQL is several times slower on
    SQLite (one giant statement re-parsed per chunk, plus SQLAlchemy's per-value bind
    processing); SQLite is in-process, so a second statement costs no round trip.
    """
    stored = await _stored_hashes(session, table, identity, batch)
    fresh: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for row in batch:
        known = stored.get(tuple(row[k] for k in identity))
        if known is None:
            fresh.append(row)
        elif known != row["payload_hash"]:
            moved.append(row)
    writes = fresh + moved
    if writes:
        sql, columns, converters = _sqlite_upsert_sql(table, tuple(writes[0]), identity)
        params = [
            tuple(convert(row[c]) for c, convert in zip(columns, converters, strict=True))
            for row in writes
        ]
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        await raw.driver_connection.executemany(sql, params)  # type: ignore[union-attr]
    return UpsertResult(inserted=len(fresh), changed=len(moved), unchanged=len(batch) - len(writes))


async def _stored_hashes(
    session: AsyncSession, table: Table, identity: tuple[str, ...], batch: list[dict[str, Any]]
) -> dict[tuple[Any, ...], str]:
    """Stored payload hashes of the batch's identities, read through the unique index.

    With the usual (connection_id, external_id) identity and one connection per batch the
    query is `connection_id = ? AND external_id IN (...)`, which SQLite answers from the
    unique index; a general row-value IN it may scan.
    """
    cols = [table.c[k] for k in identity]
    *head, last = identity
    prefixes = {tuple(row[k] for k in head) for row in batch}
    stored: dict[tuple[Any, ...], str] = {}
    for prefix in prefixes:
        lasts = [row[last] for row in batch if tuple(row[k] for k in head) == prefix]
        for start in range(0, len(lasts), _MAX_PARAMS):
            found = await session.execute(
                select(*cols, table.c.payload_hash).where(
                    *(table.c[k] == v for k, v in zip(head, prefix, strict=True)),
                    table.c[last].in_(lasts[start : start + _MAX_PARAMS]),
                )
            )
            for row in found:
                stored[tuple(row[:-1])] = row[-1]
    return stored


def _sqlite_text(value: Any) -> Any:
    return value


@lru_cache(maxsize=4096)  # a batch shares its created_at/updated_at: format it once
def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC (as UTCDateTime binds it).
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@lru_cache(maxsize=64)
def _sqlite_upsert_sql(
    table: Table, columns: tuple[str, ...], identity: tuple[str, ...]
) -> tuple[str, tuple[str, ...], tuple[Callable[[Any], Any], ...]]:
    """The upsert as SQLite SQL with positional parameters, the column order they follow,
    and how each value is bound (what SQLAlchemy's bind processors would do)."""
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(identity),
        set_={c: stmt.excluded[c] for c in columns if c not in identity and c != "created_at"},
        where=table.c.payload_hash != stmt.excluded.payload_hash,
    )
    compiled = stmt.compile(dialect=sqlite.dialect(paramstyle="qmark"), column_keys=list(columns))
    order = tuple(compiled.positiontup or ())
    converters: list[Callable[[Any], Any]] = []
    for name in order:
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            converters.append(_sqlite_datetime)
        elif isinstance(kind, Date):
            converters.append(_sqlite_date)
        elif isinstance(kind, Boolean):
            converters.append(lambda v: None if v is None else int(v))
        else:
            converters.append(_sqlite_text)
    return str(compiled), order, tuple(converters)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"
