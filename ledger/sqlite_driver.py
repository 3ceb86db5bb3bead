"""SQLAlchemy's aiosqlite adapter, with each statement one trip to aiosqlite's thread.

aiosqlite runs every sqlite3 call on its connection's own thread and wakes the event loop
when it is done. The stock adapter makes four such trips per statement (open a cursor,
execute, fetch the rows, close the cursor) and two more when a session ends (its rollback,
then the pool's). Each trip is a thread wake-up and an event-loop wake-up: on a 100-row API
page they were most of what the page cost beyond its Python. Here a statement is one
function run on the thread (cursor, execute, fetch all rows, close), and a rollback or
commit is only sent when a transaction is open (sqlite3 would do nothing with it).

Server-side cursors (`stream_results`) keep the stock adapter's cursor, which fetches in
chunks as the reader asks.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# (description, rows or None, rowcount, lastrowid) of one statement.
_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """One statement on aiosqlite's thread, its cursor opened and closed there."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one trip; it holds the outcome, not a sqlite3
    cursor (so closing it needs no trip either)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")
    _awaitable_cursor_close = False  # nothing left open on the thread

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # every row is fetched at once

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        return self._statement(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return self._statement(operation, seq_of_parameters, many=True)

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass  # sqlite3 ignores them too

    def _statement(self, operation: Any, parameters: Any, *, many: bool) -> None:
        try:
            outcome = await_(self._send(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows) if rows else collections.deque()

    async def _send(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        async with self._adapt_connection._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )
            return outcome


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls: type[AsyncAdapt_aiosqlite_cursor] = OneTripCursor

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def _in_transaction(self) -> bool:
        # Read on the loop's thread while no call of this connection runs on its own (the
        # adapter serves one caller at a time); sqlite3 checks no thread for this getter.
        sqlite_connection: sqlite3.Connection | None = self._connection._connection
        return sqlite_connection is not None and sqlite_connection.in_transaction


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module handed to the engine (`create_async_engine(module=...)`)."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)


_T = TypeVar("_T")


async def on_thread(connection: aiosqlite.Connection, work: Callable[..., _T], *args: Any) -> _T:
    """`work(sqlite3_connection, *args)` on the connection's own thread, in one trip: for a
    reader that builds its objects as SQLite steps to each row (ledger/enrich/candidates.py)
    instead of holding the fetched rows and the objects at once."""
    return await connection._execute(lambda: work(connection._conn, *args))
