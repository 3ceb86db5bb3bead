"""A request's resolvers are all done before its answer is sent.

When a field's error nulls a non-null parent, graphql-core answers at once and leaves the
sibling fields it had started to settle in the background. Those read through the request's
session while the audit row is written on it (on SQLite closing the session then failed with
IllegalStateChangeError: a 500) or after it is closed, checking out a connection nobody
returns, its transaction left open (on PostgreSQL holding its locks until the garbage
collector drops it with SQLAlchemy's "non-checked-in connection" warning). Both executors,
the plan and graphql-core's, must settle what they started before answering.
"""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from graph.core.dataloaders import RequestAnswered, RequestDb
from graph.relay.ids import to_global_id

from .conftest import AppApi
from .helpers import codes, counting
from .ledger_data import LedgerData

# `node` starts a read through a loader; `nodes` is non-null and fails before reading
# anything (a malformed id), which nulls the whole answer while `node` is still reading.
QUERY = """query($one: ID!) {
  node(id: $one) { id ... on Transaction { account { id name } card { id } } }
  nodes(ids: ["garbage"]) { id }
}"""


@pytest.mark.parametrize("fast", [False, True])
async def test_no_read_after_the_answer(
    app_api: AppApi, engine: AsyncEngine, ledger: LedgerData, fast: bool
):
    api = await app_api(fast_execution=fast)
    token = await api.token()
    one = to_global_id("Transaction", ledger.wallet.transactions[0]["id"])
    with counting(engine) as statements:
        body = await api.query(QUERY, {"one": one}, token=token)
        left = asyncio.all_tasks() - {asyncio.current_task()}
        answered = len(statements)
        if left:  # what the request left running, let finish to see what it does
            await asyncio.wait(left)
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    assert not left
    # `node` read down to its card before the audit row was written, and nothing after.
    assert any("FROM card" in s for s in statements[: answered - 1])
    assert statements[answered - 1].startswith("INSERT INTO audit_event")
    assert statements[answered:] == []
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_the_request_db_closes_after_the_reads_under_way():
    db = RequestDb(cast("AsyncSession", object()))
    order: list[str] = []

    async def read() -> None:
        async with db.session():
            await asyncio.sleep(0)
            order.append("read")

    under_way = asyncio.create_task(read())
    await asyncio.sleep(0)
    await db.close()
    order.append("closed")
    with pytest.raises(RequestAnswered):
        async with db.session():
            order.append("late read")
    await under_way
    assert order == ["read", "closed"]
