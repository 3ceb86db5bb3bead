"""Batch upserts by upstream identity.

Every upstream-sourced row carries a `payload_hash` of its data columns. The upsert is
`INSERT ... ON CONFLICT (identity) DO UPDATE ... WHERE payload_hash differs`, so an unchanged
re-delivery updates nothing (not even `updated_at`), and each row is counted as inserted,
changed or unchanged.

Link columns (ledger ids resolved from other rows, such as a transaction's `card_id`) are
derived, not upstream data: they stay out of the hash, a newly resolved link is filled in,
and a link that cannot be resolved now never erases one stored earlier.

Columns written on insert only (`OnInsert`, e.g. enrichment's first verdict on a new row)
are also outside the hash, and a later write never updates them: their owner does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Date,
    Table,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.types import UTCDateTime, utcnow

IDENTITY = ("connection_id", "external_id")
# Transactions are keyed per account, as OBP keys them (bank, account, id).
TRANSACTION_IDENTITY = ("account_id", "external_id")
_TIMESTAMPS = ("created_at", "updated_at")
# PostgreSQL and SQLite both cap bound parameters near 32k per statement.
_MAX_PARAMS = 30_000
_LOOKUP_CHUNK = 16 * 4**5  # 16384, one of the padded sizes, under the parameter cap
# On PostgreSQL, batches of at least this many rows go through COPY and one merge
# (`ledger.bulk_pg`); smaller ones take the multi-row statement, which is cheaper for them
# (docs/performance.md has the measurement).
BULK_MIN_ROWS = 100


@dataclass(slots=True)
class UpsertResult:
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    # No identity of the batch was stored before: the write inserted every row (a first
    # sync's page). Callers may then skip reading the rows back.
    all_new: bool = False

    def __iadd__(self, other: UpsertResult) -> UpsertResult:
        self.inserted += other.inserted
        self.changed += other.changed
        self.unchanged += other.unchanged
        return self

    @property
    def total(self) -> int:
        return self.inserted + self.changed + self.unchanged


@dataclass(frozen=True, slots=True)
class OnInsert:
    """Columns the rows carry that are written only when a row is inserted: outside the
    payload hash, never updated by a later write (a changed row keeps what its owner
    stored until the owner looks again). `hash_into`, not in the rows, takes the row's
    payload hash on insert: what those columns were computed from."""

    columns: tuple[str, ...]
    hash_into: str | None = None

    @property
    def kept(self) -> tuple[str, ...]:
        """Every column a conflicting write leaves alone."""
        return (*self.columns, self.hash_into) if self.hash_into else self.columns


NO_SEED = OnInsert(())


@dataclass(frozen=True, slots=True)
class Seen:
    """An incoming row that a write found already stored: `stored` and `incoming` hold the
    watched columns (`incoming` None where the row has no such key, a digest for
    `payload_hash`), both in the form the database hands back, so equal values compare
    equal."""

    row: Mapping[str, Any]
    stored: tuple[Any, ...]
    incoming: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Watch:
    """Columns a caller reads of the rows a write finds stored, BEFORE they change:
    `before_update` runs inside the write, after new rows are inserted and before stored
    ones are updated, with one `Seen` per incoming row already stored whose payload differs
    or whose stored `flags` columns (among `columns`) are set. Only batches that meet stored
    rows pay for it: a batch of new rows (a first sync) reads nothing back."""

    columns: tuple[str, ...]
    before_update: Callable[[AsyncSession, list[Seen]], Awaitable[None]]
    flags: tuple[str, ...] = ()

    def shows(self, stored_hash: Any, digest: str, stored: tuple[Any, ...]) -> bool:
        if stored_hash != digest:
            return True
        return any(stored[self.columns.index(f)] is not None for f in self.flags)


def _digest(row: Mapping[str, Any], skipped: tuple[str, ...]) -> str:
    """sha256 of the row's data columns as a key-sorted JSON object."""
    data: Mapping[str, Any] = row
    if skipped:
        copy = dict(row)  # a copy without the skipped keys costs less than a filtered one
        for key in skipped:
            del copy[key]
        data = copy
    encoded = orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(encoded).hexdigest()


@lru_cache(maxsize=256)
def _skipped(
    columns: tuple[str, ...], links: tuple[str, ...], seeded: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The row's keys that are not hashed: timestamps, the hash itself, links and the
    columns written on insert only."""
    return tuple(c for c in columns if c in {*_TIMESTAMPS, "payload_hash", *links, *seeded})


def _getter(keys: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """`row -> tuple of row[k] for k in keys`, at C speed (itemgetter of one key would not
    return a tuple)."""
    if len(keys) == 1:
        only = keys[0]
        return lambda row: (row[only],)
    return itemgetter(*keys)


def insert_for(session: AsyncSession, table: Table) -> Any:
    """The dialect's INSERT construct, which knows ON CONFLICT on both databases."""
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    identity: tuple[str, ...] = IDENTITY,
    links: tuple[str, ...] = (),
    now: datetime | None = None,
    watch: Watch | None = None,
    on_insert: OnInsert = NO_SEED,
) -> UpsertResult:
    """Insert new rows, update changed ones, leave unchanged ones alone; count each.

    The rows of one call share their keys. The caller owns the transaction: a sync page
    and its cursor commit together. Duplicate identities within `rows` collapse to the last
    one (a re-sent page is not an error), since one statement may not touch a row twice.
    A row whose only difference is a newly resolved link counts as changed. `watch` (tables
    with a payload hash only) shows the caller what is stored before it changes;
    `on_insert` names columns of the rows that only an insert writes (hashed tables only).
    """
    if not rows:
        return UpsertResult()
    now = now or utcnow()
    if "payload_hash" in table.c and _dialect(session) == "sqlite":
        return await _upsert_sqlite(session, table, rows, identity, links, now, watch, on_insert)
    hashed = "payload_hash" in table.c
    stamps = {c: now for c in _TIMESTAMPS if c in table.c}
    skipped = _skipped(tuple(rows[0]), links, on_insert.columns)
    ident = _getter(identity)
    copy_to = on_insert.hash_into
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        prepared = {**row, **stamps}
        if hashed:
            prepared["payload_hash"] = _digest(row, skipped)
            if copy_to:
                prepared[copy_to] = prepared["payload_hash"]
        unique[ident(prepared)] = prepared
    batch = list(unique.values())
    if hashed and "created_at" in table.c and len(batch) >= BULK_MIN_ROWS:
        # PostgreSQL (SQLite returned above): COPY into a staging table, one merge.
        from ledger import bulk_pg  # imports this module

        result = await bulk_pg.upsert_copy(
            session, table, batch, identity, links, now, watch, on_insert.kept
        )
    elif watch is not None:
        result = await _upsert_watched(
            session, table, batch, identity, links, now, watch, on_insert.kept
        )
    else:
        result = await _upsert_returning(
            session, table, batch, identity, links, now, on_insert.kept
        )
    result.unchanged += len(rows) - len(batch)
    return result


async def _upsert_watched(
    session: AsyncSession,
    table: Table,
    batch: list[dict[str, Any]],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    now: datetime,
    watch: Watch,
    kept: tuple[str, ...],
) -> UpsertResult:
    """Insert what is new (one statement, as for an unwatched batch of new rows), read back
    the rest (one indexed lookup), show it to `watch`, then update it."""
    ident = _getter(identity)
    insert = insert_for(session, table).on_conflict_do_nothing(index_elements=list(identity))
    returned = insert.returning(*(table.c[c] for c in identity))
    inserted: set[tuple[Any, ...]] = set()
    chunk = max(1, _MAX_PARAMS // len(batch[0]))
    for start in range(0, len(batch), chunk):
        part = batch[start : start + chunk]
        inserted.update(tuple(r) for r in (await session.execute(returned, part)).all())
    rest = [row for row in batch if ident(row) not in inserted]
    result = UpsertResult(inserted=len(inserted), all_new=not rest)
    if not rest:
        return result
    stored = await _stored(session, table, identity, links, rest, watch.columns)
    linked = _getter(links) if links else (lambda row: ())
    start = 1 + len(links)
    seen, moved = [], []
    for row in rest:
        found = stored[ident(row)]
        if watch.shows(found[0], row["payload_hash"], found[start:]):
            seen.append(Seen(row, found[start:], tuple(row.get(c) for c in watch.columns)))
        if _differs(found[:start], (row["payload_hash"], *linked(row))):
            moved.append(row)
    if seen:
        await watch.before_update(session, seen)
    result.unchanged += len(rest) - len(moved)
    if moved:  # only what differs travels again
        result += await _upsert_returning(session, table, moved, identity, links, now, kept)
    return result


def _statement(
    insert: Any,
    table: Table,
    columns: Sequence[str],
    identity: Sequence[str],
    links: Sequence[str],
    kept: Sequence[str] = (),
) -> Any:
    """INSERT ... ON CONFLICT (identity) DO UPDATE, only where something really differs:
    the payload hash where the table keeps one (else every data column, null-safely), or a
    link newly resolved. `kept` columns (written on insert only) are not updated."""
    stmt = insert(table)
    new = stmt.excluded
    updates: dict[str, Any] = {}
    for c in columns:
        if c in identity or c == "created_at" or c in kept:
            continue
        updates[c] = func.coalesce(new[c], table.c[c]) if c in links else new[c]
    data = [c for c in updates if c not in _TIMESTAMPS and c not in links]
    compared = ["payload_hash"] if "payload_hash" in table.c else data
    differs = [table.c[c].is_distinct_from(new[c]) for c in compared]
    relinked = [and_(new[c].is_not(None), table.c[c].is_distinct_from(new[c])) for c in links]
    return stmt.on_conflict_do_update(
        index_elements=list(identity), set_=updates, where=or_(*differs, *relinked)
    )


async def _upsert_returning(
    session: AsyncSession,
    table: Table,
    batch: list[dict[str, Any]],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    now: datetime,
    kept: tuple[str, ...] = (),
) -> UpsertResult:
    """One multi-row statement per chunk, counting by `RETURNING created_at`: one round trip
    per batch matters over a network (PostgreSQL)."""
    columns = list(batch[0])
    insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    stmt = _statement(insert, table, columns, identity, links, kept).returning(
        table.c.created_at if "created_at" in table.c else literal(None)
    )
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
    return result


# --- SQLite: no network, so the bottleneck is per-row work, not round trips ----------------


async def _upsert_sqlite(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    now: datetime,
    watch: Watch | None = None,
    on_insert: OnInsert = NO_SEED,
) -> UpsertResult:
    """Insert first, then reconcile what was already stored, through the driver's prepared
    `executemany`.

    `INSERT ... ON CONFLICT DO NOTHING` costs what a plain INSERT costs, while SQLite's
    `DO UPDATE` form costs ~60 % more per row, and SQLAlchemy's multi-row statement (used
    for PostgreSQL, where it saves round trips) more still. So: insert every row, skipping
    identities already stored; when all were new (a first sync) that is the whole write.
    Otherwise read the stored hashes and links and update only the rows that differ.
    Each row is hashed and bound in one pass, straight from the caller's mapping.
    """
    columns = tuple(rows[0])
    sql = _sqlite_sql(table, columns, identity, links, on_insert)
    skipped = _skipped(columns, links, on_insert.columns)
    ident = _getter(identity)
    stamp = _sqlite_datetime(now)
    unique: dict[tuple[Any, ...], tuple[Mapping[str, Any], str, list[Any]]] = {}
    for row in rows:
        digest = _digest(row, skipped)
        unique[ident(row)] = (row, digest, sql.bind(row, digest, stamp))
    batch = list(unique.values())
    duplicates = len(rows) - len(batch)
    driver = await _driver(session)
    inserted = (await driver.executemany(sql.insert, [bound for *_, bound in batch])).rowcount
    if inserted == len(batch):
        return UpsertResult(inserted=inserted, unchanged=duplicates, all_new=True)
    watched = watch.columns if watch else ()
    stored = await _stored(session, table, identity, links, [row for row, *_ in batch], watched)
    if watch is not None:
        # Rows inserted a moment ago match what is stored: they are not shown.
        incoming = _sqlite_form(table, watched)
        start = 1 + len(links)
        seen = []
        for row, digest, _ in batch:
            found = stored[ident(row)]
            if watch.shows(found[0], digest, found[start:]):
                seen.append(Seen(row, found[start:], incoming(row, digest)))
        if seen:
            await watch.before_update(session, seen)
    linked = _getter(links) if links else (lambda row: ())
    # Rows inserted a moment ago match what is stored, so they are not picked again.
    moved = [
        bound
        for row, digest, bound in batch
        if _differs(stored[ident(row)][: 1 + len(links)], (digest, *linked(row)))
    ]
    if moved:
        await driver.executemany(sql.update, moved)
    unchanged = len(batch) - inserted - len(moved) + duplicates
    return UpsertResult(inserted=inserted, changed=len(moved), unchanged=unchanged)


def _differs(stored: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Hash differs, or a link is resolved now that is not stored."""
    if stored[0] != new[0]:
        return True
    return any(n is not None and n != s for s, n in zip(stored[1:], new[1:], strict=True))


async def _stored(
    session: AsyncSession,
    table: Table,
    identity: tuple[str, ...],
    links: tuple[str, ...],
    batch: Sequence[Mapping[str, Any]],
    watched: tuple[str, ...] = (),
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """identity -> (payload hash, *links, *watched) of the batch's rows already stored."""
    *head, last = identity
    lead = _getter(head) if head else (lambda row: ())
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in batch:
        groups.setdefault(lead(row), []).append(row[last])
    stored: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for prefix, lasts in groups.items():
        found = await lookup(
            session,
            table,
            dict(zip(head, prefix, strict=True)),
            last,
            lasts,
            ("payload_hash", *links, *watched),
        )
        stored.update(((*prefix, key), values) for key, values in found.items())
    return stored


async def lookup(
    session: AsyncSession,
    table: Table,
    equal: Mapping[str, Any],
    key: str,
    keys: Sequence[Any],
    wanted: tuple[str, ...],
) -> dict[Any, tuple[Any, ...]]:
    """`key -> wanted columns` of the rows matching `equal` whose `key` is among `keys`.

    Shaped for a unique index such as (connection_id, external_id): `connection_id = ?
    AND external_id IN (...)` (on PostgreSQL a join with the keys as one array). On SQLite
    the statement goes straight to the driver (compiled once per length): SQLAlchemy's
    expanding IN and row objects cost more than the lookup.
    """
    found: dict[Any, tuple[Any, ...]] = {}
    names = tuple(equal)
    if _dialect(session) == "postgresql":
        # The keys as one array, each probing the table's index: one probe per key,
        # whatever the table's size. (A generic plan of `IN (...)` scanned all the
        # connection's rows against the list: ~160 ms a page at 100k rows.)
        query = _lookup_unnest(table, names, key, wanted)
        rows = (await session.execute(query, {**equal, "keys": list(keys)})).all()
        return {row[0]: tuple(row[1:]) for row in rows}
    sqlite_driver = await _driver(session) if _dialect(session) == "sqlite" else None
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        part = list(keys[start : start + _LOOKUP_CHUNK])
        # Padded with NULLs (which match nothing) to 16, 64, 256, ... entries, so a handful
        # of statements serve every length instead of one compiled (~2 ms) per length.
        size = 16
        while size < len(part):
            size *= 4
        part += [None] * (size - len(part))
        query = _lookup_query(table, names, key, wanted, len(part))
        if sqlite_driver is not None:
            sql = _sqlite_text(query)
            rows = await sqlite_driver.execute_fetchall(sql, (*equal.values(), *part))
        else:
            params = {**equal, **{f"{key}_{i}": v for i, v in enumerate(part)}}
            rows = (await session.execute(query, params)).all()
        found.update((row[0], tuple(row[1:])) for row in rows)
    return found


@lru_cache(maxsize=128)
def _lookup_query(
    table: Table, equal: tuple[str, ...], key: str, wanted: tuple[str, ...], count: int
) -> Any:
    return select(table.c[key], *(table.c[c] for c in wanted)).where(
        *(table.c[c] == bindparam(c) for c in equal),
        table.c[key].in_([bindparam(f"{key}_{i}") for i in range(count)]),
    )


@lru_cache(maxsize=128)
def _lookup_unnest(table: Table, equal: tuple[str, ...], key: str, wanted: tuple[str, ...]) -> Any:
    """Each key probes the index by itself: a LATERAL subquery the planner may not flatten
    (its OFFSET), so no plan can hash the whole of the `equal` rows instead. A plain join
    was planned so whenever the table's statistics predate its rows (a first sync, or no
    autovacuum since): the page's lookup read every row of the connection, growing with
    the ledger (~10 ms a page at 100k rows, against ~1 ms probing)."""
    keys = func.unnest(bindparam("keys", type_=postgresql.ARRAY(table.c[key].type)))
    wanted_keys = keys.table_valued("value").render_derived(name="wanted_keys")
    found = (
        select(table.c[key], *(table.c[c] for c in wanted))
        .where(table.c[key] == wanted_keys.c.value, *(table.c[c] == bindparam(c) for c in equal))
        .offset(literal_column("0"))
        .lateral("found")
    )
    return select(*found.c).select_from(wanted_keys.join(found, true()))


@lru_cache(maxsize=128)
def _sqlite_text(query: Any) -> str:
    return str(query.compile(dialect=sqlite.dialect(paramstyle="qmark")))


async def _driver(session: AsyncSession) -> Any:
    """The aiosqlite connection under the session's connection (same transaction)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME storage format, in UTC (as UTCDateTime binds it).
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _sqlite_form(
    table: Table, columns: tuple[str, ...]
) -> Callable[[Mapping[str, Any], str], tuple[Any, ...]]:
    """`(row, its digest) ->` the row's `columns` as SQLite hands them back to a lookup."""
    convert: list[Callable[[Any], Any]] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            convert.append(_sqlite_datetime)
        elif isinstance(kind, Date):
            convert.append(_sqlite_date)
        elif isinstance(kind, Boolean):
            convert.append(_sqlite_bool)
        else:
            convert.append(lambda value: value)
    pairs = tuple(zip(columns, convert, strict=True))
    return lambda row, digest: tuple(
        digest if name == "payload_hash" else to(row.get(name)) for name, to in pairs
    )


_EXTRAS = ("payload_hash", *_TIMESTAMPS)  # values `upsert` adds to the caller's columns


@dataclass(frozen=True, slots=True)
class _SqliteSql:
    insert: str  # INSERT ... ON CONFLICT (identity) DO NOTHING
    update: str  # INSERT ... ON CONFLICT (identity) DO UPDATE ... WHERE something differs
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the row's own parameters, in order
    typed: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, converter) where needed
    extras: tuple[tuple[int, bool], ...]  # (position, is a hash) of the hashes and timestamps

    def bind(self, row: Mapping[str, Any], digest: str, stamp: str | None) -> list[Any]:
        """The row's parameters, converted as SQLAlchemy's bind processors would, touching
        only the columns that need it."""
        bound = list(self.values(row))
        for index, convert in self.typed:
            bound[index] = convert(bound[index])
        for index, is_hash in self.extras:  # ascending: each lands where it belongs
            bound.insert(index, digest if is_hash else stamp)
        return bound


@lru_cache(maxsize=64)
def _sqlite_sql(
    table: Table,
    columns: tuple[str, ...],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    on_insert: OnInsert = NO_SEED,
) -> _SqliteSql:
    """Both statements as SQLite SQL with positional parameters, and how to bind a row."""
    dialect = sqlite.dialect(paramstyle="qmark")
    hashes = {"payload_hash", *((on_insert.hash_into,) if on_insert.hash_into else ())}
    added = (*_EXTRAS, *(hashes - {"payload_hash"}))  # what `bind` adds to the row's own
    keys = [*columns, *(c for c in added if c in table.c)]
    insert = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(identity))
    compiled_insert = insert.compile(dialect=dialect, column_keys=keys)
    update = _statement(sqlite.insert, table, keys, identity, links, on_insert.kept)
    compiled_update = update.compile(dialect=dialect, column_keys=keys)
    order = tuple(compiled_insert.positiontup or ())
    assert order == tuple(compiled_update.positiontup or ()), "one parameter list for both"
    own = tuple(c for c in order if c not in added)
    extras = tuple((i, c in hashes) for i, c in enumerate(order) if c in added)
    typed: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(own):
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            typed.append((index, _sqlite_datetime))
        elif isinstance(kind, Date):
            typed.append((index, _sqlite_date))
        elif isinstance(kind, Boolean):
            typed.append((index, _sqlite_bool))
    return _SqliteSql(
        str(compiled_insert), str(compiled_update), _getter(own), tuple(typed), extras
    )


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind else "sqlite"
