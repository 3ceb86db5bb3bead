"""graphql-core's executor, answering once the work it started is done.

When a field's error nulls a non-null parent, graphql-core answers at once and leaves the
sibling fields it had started to settle in the background (`Executor.settle_in_background`).
Those resolvers read through the request's session and write to its trail; run after the
answer, they race the audit row for the session (which is rolled back and written on), add
ids to a trail already recorded, or, once the session is closed, check out a connection that
nobody returns (on PostgreSQL its open transaction keeps its locks until the garbage
collector drops it, and a DDL statement, such as a test's DROP SCHEMA, waits on them). So
the answer waits for them, and then the request's database is closed to reads
(`RequestDb.close`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.core.dataloaders import RequestDb


class SettledExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        return self.settled(super().execute_operation(serially))

    async def settled(self, result: Any) -> Any:
        """`result` (awaited if it must be) once the operation's work is done."""
        try:
            outcome = await result if self.is_awaitable(result) else result
        except Exception:
            await self.settle()
            raise
        await self.settle()
        return outcome

    async def settle(self) -> None:
        while self.background_futures:
            await asyncio.wait(list(self.background_futures))
        db = getattr(self.context_value, "db", None)
        if isinstance(db, RequestDb):
            await db.close()
