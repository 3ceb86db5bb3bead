"""The building blocks of the per-request dataloaders.

Loaders live in the request context and die with it: a module-level loader would cache one
customer's rows for the next. Each batch is one statement; results come back in key order,
None or [] for a key with no visible row.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession


class RequestAnswered(RuntimeError):
    """A read asked for once the request's answer was made (`RequestDb.close`)."""


class RequestDb:
    """The request's session, used by one statement at a time.

    GraphQL resolves sibling fields concurrently, while an AsyncSession runs one statement at
    a time; the lock queues them on the request's single connection.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._lock = asyncio.Lock()
        self._closed = False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._closed:
                raise RequestAnswered("the request has its answer; its session is not for reads")
            yield self._session

    async def close(self) -> None:
        """Waits for the statements under way or queued, then refuses any later one.

        Called once the answer is made (graph/execution/settled.py): the session then goes
        to the audit row and is closed, and a read run on it after that would race the
        audit for it, or check out a connection nobody returns. What can still ask is a
        dataloader batch whose every caller was cancelled: nobody waits for its rows."""
        async with self._lock:
            self._closed = True


class Reader(Protocol):
    """What a loader needs from the request: the database and the readable accounts."""

    db: RequestDb

    async def account_ids(self) -> list[int]: ...


class Identified(Protocol):
    """A ledger row with a primary key."""

    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT")
IdentifiedT = TypeVar("IdentifiedT", bound=Identified)


class OwnedRowById(DataLoader[int, IdentifiedT | None]):
    """Rows by primary key, restricted to the accounts the request may read."""

    def __init__(
        self,
        reader: Reader,
        # (session, ids, readable account ids) -> rows
        query: Callable[[AsyncSession, Sequence[int], Sequence[int]], Awaitable[list[IdentifiedT]]],
    ) -> None:
        super().__init__()
        self.reader = reader
        self.query = query

    async def batch_load_fn(self, keys: Sequence[int]) -> list[IdentifiedT | None]:
        account_ids = await self.reader.account_ids()
        async with self.reader.db.session() as session:
            found = await self.query(session, keys, account_ids)
        by_id = {row.id: row for row in found}
        return [by_id.get(key) for key in keys]


def group_rows(
    rows: Sequence[RowT], key: Callable[[RowT], int | None], keys: Sequence[int]
) -> list[list[RowT]]:
    """`rows` grouped by `key`, one (possibly empty) list per key, in key order."""
    grouped: dict[int | None, list[RowT]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return [grouped.get(k, []) for k in keys]
