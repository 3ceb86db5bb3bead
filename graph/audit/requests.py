"""One audit row per API request (GraphQL and REST), allowed or denied.

Written once the answer is known and before it is sent; an answer whose row could not be
written is not sent (every read is on the record). Nothing secret is in a row: the token
names a consent, and the consent's id is what is kept.

The row goes through the request's own session when there is one: its transaction is
rolled back first (the row must not share the fate of the request's transaction, and
whatever a request left uncommitted is discarded, as closing the session would), then the
row is inserted and committed on the same session. That costs no second session; the
rollback does return the connection to the pool (with the pool's own reset, a second
rollback) and the INSERT checks one out again, on PostgreSQL with its pre-ping round trip
(seen with pool events; not avoided yet). On SQLite the rollback also means the INSERT
starts a fresh write transaction rather than upgrading a read one (an upgrade from a stale
snapshot fails at once with SQLITE_BUSY instead of waiting out `busy_timeout`). When the
request's connection cannot take the row (the request may have failed because of it), a
fresh session writes it.

On SQLite the rows of one process's concurrent requests are written together (`_Queue`).
SQLite has one writer at a time, and a writer that finds the lock taken waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10, ... up to 100 ms between tries however soon the
lock is free; each write holds the lock across several event-loop turns (INSERT, cursor
close, COMMIT), during which the loop runs other requests. Under load those sleeps were
most of a request's time (docs/performance.md, "GraphQL over HTTP"). Queued instead,
whoever gets the turn writes every row waiting, in one statement and one commit, and the
requests whose rows it wrote answer without writing. Each still answers only once its own
row is committed. Other processes (a sync, other workers) still meet in the busy handler.
PostgreSQL takes concurrent inserts: there each request writes its own row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from graph.audit.trail import Trail
from graph.auth.principal import Party
from graph.server.services import client_ip, request_id
from ledger import audit

log = logging.getLogger("graph.audit")


@dataclass(slots=True)
class _Row:
    entry: audit.AuditRecord
    at: datetime
    written: bool | None = None  # None: not tried yet


@dataclass(slots=True)
class _Queue:
    """The rows of one SQLite database waiting to be written, and whose turn it is."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    rows: list[_Row] = field(default_factory=list)


# One per SQLite engine: an engine belongs to one event loop (ledger.db), and so does a lock.
_queues: WeakKeyDictionary[AsyncEngine, _Queue] = WeakKeyDictionary()


async def write_audit(
    sessions: async_sessionmaker[AsyncSession],
    request: Request,
    party: Party,
    trail: Trail,
    *,
    at: datetime,
    session: AsyncSession | None = None,
) -> bool:
    """Records the request, on its `session` if given; False (and the reason in the log)
    when the row was not written."""
    if getattr(request.state, "skip_audit", False):
        return True  # a flood of failed authentications from one address (Services)
    entry = audit.AuditRecord(
        operation=trail.operation,
        outcome=trail.outcome,
        request_id=request_id(request),
        client_id=party.client_id,
        user_id=party.user_id,
        consent_id=party.consent_id,
        scopes=sorted(trail.scopes),
        object_ids=trail.object_ids,
        ip=client_ip(request),
        detail=trail.detail,
    )
    row = _Row(entry, at)
    # The request's transaction ends before its row waits for a turn: it holds no lock.
    if session is not None and not await _ended(session, entry):
        session = None
    queue = _queue(sessions)
    if queue is None:
        await _write(sessions, [row], session)
        return bool(row.written)
    queue.rows.append(row)
    async with queue.turn:
        if row.written is None:  # not written by the one before
            rows, queue.rows = queue.rows, []
            await _write(sessions, rows, session)
    return bool(row.written)


def _queue(sessions: async_sessionmaker[AsyncSession]) -> _Queue | None:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return None
    queue = _queues.get(engine)
    if queue is None:
        queue = _queues[engine] = _Queue()
    return queue


async def _write(
    sessions: async_sessionmaker[AsyncSession], rows: list[_Row], session: AsyncSession | None
) -> None:
    """Writes `rows` on `session` (its transaction ended) or else a fresh one, and marks
    each written or not. Marked not written on any failure or cancellation, so an answer is
    never sent without its row; nothing is retried after a COMMIT that may have been made,
    so no row is written twice."""
    written = False
    try:
        if session is None or not await _inserted(session, rows):
            async with sessions.begin() as fresh:
                await _insert(fresh, rows)
        else:
            await session.commit()
        written = True
    except (SQLAlchemyError, OSError):
        for row in rows:
            log.exception("request %s: audit row not written", row.entry.request_id)
    finally:
        for row in rows:
            row.written = written


async def _ended(session: AsyncSession, entry: audit.AuditRecord) -> bool:
    """Rolls the request's transaction back; False when its connection could not."""
    try:
        await session.rollback()
    except (SQLAlchemyError, OSError):
        _moved([entry])
        return False
    return True


async def _inserted(session: AsyncSession, rows: list[_Row]) -> bool:
    """Inserts the rows in a new transaction of `session` (not committed yet); False when
    its connection could not (nothing is sent before the commit, so writing the rows
    elsewhere cannot record them twice)."""
    try:
        await _insert(session, rows)
    except (SQLAlchemyError, OSError):
        # The session's close rolls the failed attempt back.
        _moved([row.entry for row in rows])
        return False
    return True


async def _insert(session: AsyncSession, rows: list[_Row]) -> None:
    if len(rows) == 1:
        await audit.record(session, rows[0].entry, at=rows[0].at)
    else:
        await audit.record_many(session, [(row.entry, row.at) for row in rows])


def _moved(entries: list[audit.AuditRecord]) -> None:
    for entry in entries:
        log.warning("request %s: audit row written on a new connection", entry.request_id)
