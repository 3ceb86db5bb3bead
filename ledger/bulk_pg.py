"""PostgreSQL's bulk path of `ledger.writes.upsert`: COPY a page, merge it in one statement.

A multi-row `INSERT ... VALUES` of a 1000-row page binds ~30,000 parameters, each through
SQLAlchemy's processing and the driver's encoding, into one huge statement to parse.
Instead the page's rows (already deduplicated, hashed and stamped by `upsert`) go through
the driver's binary `COPY` into a temporary staging table, and one statement moves them into
the ledger table:

    WITH staged AS (DELETE FROM pg_temp.stage RETURNING ...)
    INSERT INTO ledger_table (...) SELECT ... FROM staged
    ON CONFLICT (identity) DO UPDATE SET ... WHERE payload differs or a link is new
    RETURNING created_at

The `ON CONFLICT` clause is `writes._statement`, the very one the multi-row path uses, so
what is updated (unchanged rows untouched, links filled in and never erased) and how rows
are counted (`created_at` equal to this write's stamp: inserted) cannot differ between the
paths. The staging table is created once per connection (`IF NOT EXISTS`, one cheap round
trip per write, which also opens the session's transaction before the driver is used
directly), emptied by the statement that consumes it and again at every commit (`ON COMMIT
DELETE ROWS`), and rolled back with the transaction or savepoint it was filled in. Its text
columns are unbounded `text`, so a value too long for its column is refused by the merge
statement, through SQLAlchemy, exactly as the multi-row path refuses it (the sync's
per-row fallback relies on a `DBAPIError`).

A page none of whose identities is stored (a first sync's) skips all that: a probe of a
sample of its identities finds none, and the rows are copied straight into the ledger
table in a savepoint; every row inserted is what the merge would have counted. Should the
COPY fail (a stored row the sample missed, one another transaction stored meanwhile, a
value the table refuses) the savepoint is rolled back and the page takes the staging
path below, which decides as it always has.

A watched write (`Watch`, transactions' revisions) takes the multi-row path's steps in its
order: the new rows are inserted (`ON CONFLICT DO NOTHING`) and taken out of the staging
table in one statement, so a page of new rows (a first sync) reads nothing back; what stays
staged was stored before, and one join of it with the ledger table reads the stored hash,
links and watched columns (the same `Seen` values as `writes._upsert_watched` shows); the
watch runs; the merge updates exactly the staged rows that differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Dialect,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.writes import (
    Seen,
    UpsertResult,
    Watch,
    _differs,
    _getter,
    _statement,
)

# Identities of a page probed before it is copied straight into the ledger table.
_SAMPLE = 32


@dataclass(frozen=True, slots=True)
class _Plan:
    """One table's statements for one set of columns."""

    stage: str  # the staging table's name, in pg_temp
    probe: Any  # SELECT whether any of the rows' identities is stored
    create: Any  # CREATE TEMP TABLE IF NOT EXISTS ... (no rows, the table's types)
    values: Callable[[dict[str, Any]], tuple[Any, ...]]  # a row's values in column order
    binds: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor)
    insert: Any  # new rows only, taken out of the stage; SELECT how many
    clear: Any  # DELETE FROM the stage
    merge: Any  # the ON CONFLICT DO UPDATE statement, consuming the stage
    stored: Any | None  # the stored rows the stage meets (watched writes only)


async def upsert_copy(
    session: AsyncSession,
    table: Table,
    batch: list[dict[str, Any]],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    now: Any,
    watch: Watch | None,
    kept: tuple[str, ...] = (),
) -> UpsertResult:
    """`upsert` of `batch` (unique identities, hashed, stamped) through COPY and one merge;
    the merge leaves `kept` columns (written on insert only) alone."""
    dialect = session.get_bind().dialect
    columns = tuple(batch[0])
    watched = watch.columns if watch else ()
    plan = _plan(table, columns, identity, links, watched, kept, dialect)
    records = _records(plan, batch)
    if await _copied_in_place(session, table, plan, identity, columns, batch, records):
        # Every row was new: what the merge (or the watched insert) would have counted.
        return UpsertResult(inserted=len(batch), all_new=watch is not None)
    await session.execute(plan.create)
    await _copy(session, plan.stage, "pg_temp", columns, records)
    if watch is None:
        touched, fresh = await _merged(session, plan, now)
        return UpsertResult(fresh, touched - fresh, len(batch) - touched)
    # New rows go in first, and leave the staging table: what stays is what was stored.
    inserted = int((await session.execute(plan.insert)).scalar_one())
    if inserted == len(batch):  # a first sync: nothing is read back
        return UpsertResult(inserted=inserted, all_new=True)
    assert plan.stored is not None
    found = {
        tuple(row[: len(identity)]): tuple(row[len(identity) :])
        for row in await session.execute(plan.stored)
    }
    ident = _getter(identity)
    linked = _getter(links) if links else (lambda row: ())
    start = 1 + len(links)
    seen, moved = [], 0
    for row in batch:
        stored = found.get(ident(row))
        if stored is None:  # inserted just now
            continue
        if watch.shows(stored[0], row["payload_hash"], stored[start:]):
            seen.append(Seen(row, stored[start:], tuple(row.get(c) for c in watch.columns)))
        if _differs(stored[:start], (row["payload_hash"], *linked(row))):
            moved += 1
    result = UpsertResult(inserted=inserted, unchanged=len(batch) - inserted - moved)
    if seen:
        await watch.before_update(session, seen)
    if moved:  # the merge touches exactly the staged rows that differ
        touched, fresh = await _merged(session, plan, now)
        result.inserted += fresh
        result.changed += touched - fresh
        result.unchanged += moved - touched
    else:
        await session.execute(plan.clear)
    return result


def _records(plan: _Plan, batch: list[dict[str, Any]]) -> list[Sequence[Any]]:
    """The rows as COPY sends them, each value converted as SQLAlchemy would bind it (so a
    naive timestamp is refused the same way, before anything is sent)."""
    records: list[Sequence[Any]] = []
    for row in batch:
        values = plan.values(row)
        if plan.binds:
            bound = list(values)
            for index, process in plan.binds:
                bound[index] = process(bound[index])
            records.append(bound)
        else:
            records.append(values)
    return records


async def _copied_in_place(
    session: AsyncSession,
    table: Table,
    plan: _Plan,
    identity: tuple[str, ...],
    columns: tuple[str, ...],
    batch: list[dict[str, Any]],
    records: list[Sequence[Any]],
) -> bool:
    """COPY the rows straight into the ledger table when none of their identities is
    stored (a first sync's pages): the staging table, its COPY and the merge cost ~15 ms a
    page beyond it. A probe of a sample of the identities (every row's cost ~5 ms a page)
    sends a page that meets stored rows (a re-read's) to the merge at once. The COPY runs
    in a savepoint and is the proof: a stored row the sample missed, a row stored
    meanwhile by another transaction, or a row the table refuses rolls it back, and the
    merge decides (counts, or the refusal the caller expects), as before."""
    step = max(1, len(batch) // _SAMPLE)
    sample = [*batch[::step], batch[-1]]
    keys = {f"k{i}": [row[c] for row in sample] for i, c in enumerate(identity)}
    if (await session.execute(plan.probe, keys)).scalar_one():  # begins the transaction
        return False
    driver = await _driver(session)
    try:
        async with driver.transaction():  # a savepoint in the session's transaction
            await driver.copy_records_to_table(
                table.name, records=records, columns=list(columns), schema_name=table.schema
            )
    except Exception as exc:
        if not _is_driver_error(exc):
            raise
        return False
    return True


async def _driver(session: AsyncSession) -> Any:
    """asyncpg's connection under the session's, in its transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _copy(
    session: AsyncSession,
    name: str,
    schema: str,
    columns: tuple[str, ...],
    records: list[Sequence[Any]],
) -> None:
    """The records into a table by binary COPY, its errors as SQLAlchemy's."""
    driver = await _driver(session)
    try:
        await driver.copy_records_to_table(
            name, records=records, columns=list(columns), schema_name=schema
        )
    except Exception as exc:  # the driver's own errors: what the sync's fallback expects
        if isinstance(exc, DBAPIError) or not _is_driver_error(exc):
            raise
        raise DBAPIError(f"COPY {schema}.{name}", None, exc) from exc


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("asyncpg")


async def _merged(session: AsyncSession, plan: _Plan, now: Any) -> tuple[int, int]:
    """Run the merge: (rows touched, of which inserted). As the multi-row path counts: a
    row inserted now carries this write's created_at; an updated one keeps its own."""
    touched = (await session.execute(plan.merge)).scalars().all()
    return len(touched), sum(1 for created in touched if created == now)


@lru_cache(maxsize=64)
def _plan(
    table: Table,
    columns: tuple[str, ...],
    identity: tuple[str, ...],
    links: tuple[str, ...],
    watched: tuple[str, ...],
    kept: tuple[str, ...],
    dialect: Dialect,
) -> _Plan:
    digest = hashlib.sha256(repr((table.name, columns)).encode()).hexdigest()[:10]
    name = f"stage_{table.name[:40]}_{digest}"
    stage = Table(
        name,
        MetaData(),
        *(Column(c, table.c[c].type) for c in columns),
        schema="pg_temp",
    )
    quote = dialect.identifier_preparer.quote
    # Strings unbounded: the ledger table's own types refuse what is too long, in the merge.
    shape = ", ".join(
        f"{quote(c)}::text AS {quote(c)}" if _is_text(table.c[c].type, dialect) else quote(c)
        for c in columns
    )
    # Identifiers only, from the metadata, quoted by the dialect: nothing user-supplied.
    create = text(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS pg_temp.{quote(name)} ON COMMIT DELETE ROWS "  # noqa: S608
        f"AS SELECT {shape} FROM {quote(table.name)} WITH NO DATA"
    )
    binds = []
    for index, c in enumerate(columns):
        process = table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binds.append((index, process))
    consumed = delete(stage).returning(*stage.c).cte("staged")
    from_consumed = select(*consumed.c)
    new_rows = (
        postgresql.insert(table)
        .from_select(list(columns), select(*stage.c))
        .on_conflict_do_nothing(index_elements=list(identity))
        .returning(*(table.c[c] for c in identity))
        .cte("inserted")
    )
    taken = delete(stage).where(*(stage.c[c] == new_rows.c[c] for c in identity)).cte("taken")
    insert = select(func.count()).select_from(new_rows).add_cte(taken)
    merge = _statement(
        lambda t: postgresql.insert(t).from_select(list(columns), from_consumed),
        table,
        columns,
        identity,
        links,
        kept,
    ).returning(table.c.created_at)
    stored = None
    if watched:
        # Each staged row probes the identity's index by itself (a LATERAL the planner may
        # not flatten, for its OFFSET): the staging table has no statistics, nor has a
        # ledger table autovacuum has not analyzed yet, and a join planned from them may
        # hash the whole ledger table instead (~90 ms a page at 100k rows).
        read = (table.c.payload_hash, *(table.c[c] for c in (*links, *watched)))
        found = (
            select(*(column.label(f"v{i}") for i, column in enumerate(read)))
            .where(*(table.c[c] == stage.c[c] for c in identity))
            .offset(literal_column("0"))
            .lateral("found")
        )
        stored = select(*(stage.c[c] for c in identity), *found.c).select_from(
            stage.join(found, true())
        )
    # Whether any identity of the page is stored: one probe of its index per row, stopping
    # at the first found (LATERAL ... OFFSET 0, so no plan scans the table instead).
    page = (
        func.unnest(
            *(
                bindparam(f"k{i}", type_=postgresql.ARRAY(table.c[c].type))
                for i, c in enumerate(identity)
            )
        )
        .table_valued(*(f"k{i}" for i in range(len(identity))))
        .render_derived(name="page")
    )
    hit = (
        select(literal_column("1").label("hit"))
        .select_from(table)
        .where(*(table.c[c] == page.c[f"k{i}"] for i, c in enumerate(identity)))
        .offset(literal_column("0"))
        .lateral("hit")
    )
    probe = select(exists(select(hit.c.hit).select_from(page.join(hit, true()))))
    return _Plan(
        stage=name,
        probe=probe,
        create=create,
        values=_getter(columns),
        binds=tuple(binds),
        insert=insert,
        clear=delete(stage),
        merge=merge.add_cte(consumed),
        stored=stored,
    )


def _is_text(kind: Any, dialect: Dialect) -> bool:
    return isinstance(kind.dialect_impl(dialect), String) or isinstance(
        getattr(kind, "impl", None), String
    )
