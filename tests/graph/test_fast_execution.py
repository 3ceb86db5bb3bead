"""The execution plan (graph/execution/): which queries it runs, and that a query it runs, or
hands over, answers and is audited exactly as under graphql-core's executor alone.

(tests/graph/test_fast_execution_differential.py compares the two executors on generated
queries; this module pins the decisions.)
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.auth.scopes import ALL_SCOPES, CARDS_READ
from graph.execution import plan as planning
from graph.execution.steps import Unplanned
from graph.relay.ids import to_global_id
from graph.server.app import create_app
from graph.settings import Settings

from .helpers import SECRET, Api
from .ledger_data import LedgerData

PAGE = """
query Page($first: Int, $after: String) {
  transactions(first: $first, after: $after) {
    edges {
      cursor
      node {
        id status bookingDate type description
        amount { amount currency } balanceAfter { amount currency }
        category { code primary label(locale: EN) }
        counterparty { name accountMasked bank country }
        merchant { name mcc }
        account { id name currency institution { id name } }
        card { id panMasked }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

FRAGMENTS = """
query Shapes {
  cards { edges { node { ...C  again: id } } }
  accounts(first: 2) { edges { node { __typename id ... on Account { name } cards { id } } } }
  transfers(first: 3) { edges { node { id } } totalCount }
  servicePayments(first: 3) { edges { node { id transaction { id } } } }
  __typename
}
fragment C on Card { id panMasked account { id } }
"""


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The plan on, whatever ALIF_GRAPH_FAST_EXECUTION says (CI runs the API's tests again
    with it off; this module is about the plan)."""
    return Settings(database_url=db_url, secret_key=SECRET, fast_execution=True)


@pytest.fixture
async def standard(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Api]:
    """The same API with the plan switched off, over the same database."""
    app = create_app(settings.model_copy(update={"fast_execution": False}), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield Api(client, sessions)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each planned run ended: "planned" (the plan answered) or "handed over"."""
    seen: list[str] = []
    execute = planning.Run.execute

    async def spy(self: planning.Run, root: Any, root_value: Any) -> Any:
        try:
            found = await execute(self, root, root_value)
        except Exception:
            seen.append("handed over")
            raise
        seen.append("planned")
        return found

    monkeypatch.setattr(planning.Run, "execute", spy)
    return seen


async def both(
    api: Api, standard: Api, query: str, variables: dict[str, Any] | None = None, **token: Any
) -> tuple[str, str, Any, Any]:
    """Both answers (bytes) and both audit rows' (outcome, scopes, object ids)."""
    answers, rows = [], []
    for each in (api, standard):
        response = await each.post(query, variables, token=await each.token(**token))
        answers.append(response.text)
        row = (await each.audit_rows())[-1]
        rows.append((row.outcome, row.scopes, row.object_ids))
    return answers[0], answers[1], rows[0], rows[1]


async def test_a_page_with_its_relations_is_planned_and_answers_as_graphql_core_does(
    api: Api, standard: Api, ledger: LedgerData, runs: list[str]
):
    first = await api.query(PAGE, {"first": 3})
    after = first["data"]["transactions"]["pageInfo"]["endCursor"]
    for variables in ({"first": 3}, {"first": 100}, {"first": 2, "after": after}, {}):
        mine, theirs, my_row, their_row = await both(api, standard, PAGE, variables)
        assert mine == theirs
        assert my_row == their_row
    assert runs == ["planned"] * 5
    assert '"errors"' not in mine


async def test_fragments_aliases_and_every_list_root_are_planned_alike(
    api: Api, standard: Api, ledger: LedgerData, runs: list[str]
):
    mine, theirs, my_row, their_row = await both(api, standard, FRAGMENTS)

    assert runs == ["planned"]
    assert mine == theirs and '"errors"' not in mine
    # The ids the plan collected for the audit, in the order the result walk finds them.
    assert my_row == their_row
    card = to_global_id("Card", ledger.card_ids[0])
    assert card in my_row[2].split()


@pytest.mark.parametrize(
    "query",
    [
        "mutation { consentRevoke { __typename } }",
        '{ node(id: "QWNjb3VudDox") { id } }',
        "{ viewer { customer { id } } }",
        "query($x: Boolean!) { transactions { edges { node { id @include(if: $x) } } } }",
        "{ accounts { edges { node { liveBalances { type } } } } }",
        "{ transactions { __schema: totalCount } __schema { queryType { name } } }",
    ],
    ids=["mutation", "abstract", "other-root", "directive", "bank-call", "introspection"],
)
async def test_shapes_a_plan_does_not_cover_are_left_to_graphql_core(
    api: Api, ledger: LedgerData, runs: list[str], query: str
):
    variables = {"x": True} if "$x" in query else None
    await api.post(query, variables, token=await api.token())

    assert runs == []


async def test_an_error_met_by_the_plan_is_answered_by_graphql_core_from_the_start(
    api: Api, standard: Api, ledger: LedgerData, runs: list[str]
):
    for variables in ({"first": 2, "after": "not a cursor"}, {"first": 10_000}, {"first": -1}):
        mine, theirs, my_row, their_row = await both(api, standard, PAGE, variables)
        assert mine == theirs and '"errors"' in mine
        assert my_row == their_row
    assert runs == ["handed over"] * 3


async def test_a_gated_field_outside_the_consent_is_never_planned(
    api: Api, standard: Api, ledger: LedgerData, runs: list[str]
):
    scopes = [s for s in ALL_SCOPES if s != CARDS_READ]

    mine, theirs, my_row, their_row = await both(api, standard, PAGE, {"first": 5}, scopes=scopes)

    # The consent is checked before the plan runs: no read is made twice, the error is
    # graphql-core's, and the audit records only the scopes the answer asked about.
    assert runs == []
    assert mine == theirs and "FORBIDDEN" in mine
    assert my_row == their_row


async def test_the_setting_switches_the_plan_off(settings: Settings):
    from graph.schema import build_schema

    assert build_schema(settings).execution_context_class is not None  # type: ignore[attr-defined]
    off = settings.model_copy(update={"fast_execution": False})
    assert build_schema(off).execution_context_class.__name__ != "PlannedExecutor"  # type: ignore[attr-defined]


async def test_a_levels_resolvers_run_without_a_task_each(
    api: Api, standard: Api, ledger: LedgerData, runs: list[str]
):
    loop = asyncio.get_running_loop()
    created: list[int] = []
    factory = loop.get_task_factory()

    def counting(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        created[-1] += 1
        if factory is not None:
            return factory(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting)
    try:
        for size in (1, 3, 100):
            created.append(0)
            await api.post(PAGE, {"first": size}, token=await api.token())
    finally:
        loop.set_task_factory(factory)

    # The relations of every row (account, its institution, card) are loaded in batches:
    # what tasks there are (the loaders' own) do not grow with the rows.
    assert runs == ["planned"] * 3
    assert created[0] == created[1] == created[2]


class _Field:
    """What `Run._settle` reads of a field step: its key and how to complete a value."""

    def __init__(self, key: str) -> None:
        self.key = key

    def complete(self, value: Any, path: Any, run: Any, sink: Any) -> Any:
        return value


class _Executor:
    """What `Run` asks of the executor when it gives up: to settle what was started."""

    def __init__(self) -> None:
        self.settling: list[Any] = []

    def settle_in_background(self, awaitables: list[Any]) -> None:
        self.settling.extend(awaitables)


async def _settled(*awaitables: Any, executor: _Executor | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    run = planning.Run(executor=executor or _Executor())  # type: ignore[arg-type]
    run.pending = [(out, _Field(f"f{i}"), a, None, None) for i, a in enumerate(awaitables)]  # type: ignore[misc]
    await run.execute(_RootOf(run), None)
    return out


class _RootOf:
    """A root step whose completion leaves `run.pending` as the test set it."""

    carries_ids = False

    def __init__(self, run: planning.Run) -> None:
        self.pending = run.pending

    def complete(self, value: Any, path: Any, run: planning.Run, sink: Any) -> dict[str, Any]:
        run.pending = self.pending
        return {}


async def test_stepped_resolvers_wait_together_and_batch_as_under_gather():
    loop = asyncio.get_running_loop()
    batches: list[list[int]] = []
    queued: list[tuple[int, asyncio.Future[int]]] = []

    def load(key: int) -> asyncio.Future[int]:
        # A dataloader in miniature: loads queued in one loop turn are answered together.
        future = loop.create_future()
        if not queued:
            loop.call_soon(dispatch)
        queued.append((key, future))
        return future

    def dispatch() -> None:
        batch = list(queued)
        queued.clear()
        batches.append([key for key, _ in batch])
        for key, future in batch:
            future.set_result(key * 10)

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="caller's")

    async def relation(key: int) -> int:
        marker.set(f"resolver {key}")  # a resolver's context changes stay its own
        first = await load(key)
        second = await load(first)  # a second round: one more batch, not one per resolver
        return second

    async def at_once() -> str:
        return "no wait"

    out = await _settled(relation(1), relation(2), at_once(), load(7), relation(3))

    assert out == {"f0": 100, "f1": 200, "f2": "no wait", "f3": 70, "f4": 300}
    assert [sorted(batch) for batch in batches] == [[1, 2, 3, 7], [10, 20, 30]]
    assert marker.get() == "caller's"


@pytest.mark.parametrize("kind", ["fails", "sleeps", "fails later", "bad yield"])
async def test_a_failing_resolver_hands_over_once_the_others_under_way_have_ended(kind: str):
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    @types.coroutine
    def bad_yield() -> Any:
        yield "not a future"  # what asyncio's Task would refuse too

    async def bad() -> None:
        if kind == "sleeps":
            await asyncio.sleep(0)  # a bare yield: resumed on the next round, as a task is
        if kind == "fails later":
            await _soon(loop, None)
        if kind == "bad yield":
            await bad_yield()
        raise LookupError("boom")

    async def under_way() -> str:
        # Stopped mid-way it could leave a statement half run: it runs to its end first.
        try:
            await _soon(loop, None)
            await _soon(loop, None)
            seen.append("ended")
        finally:
            seen.append("left")
        return "unused"

    async def after() -> None:
        seen.append("started")  # stepped after `bad` in each round

    executor = _Executor()
    with pytest.raises(Unplanned):
        await asyncio.wait_for(_settled(under_way(), bad(), after(), executor=executor), 5)
    # A resolver not started when another fails is never started (it is closed); one that
    # ran in an earlier round has run.
    fails_at_once = kind in ("fails", "bad yield")
    assert seen == (["ended", "left"] if fails_at_once else ["started", "ended", "left"])


def _soon(loop: asyncio.AbstractEventLoop, value: Any) -> asyncio.Future[Any]:
    future = loop.create_future()
    loop.call_soon(future.set_result, value)
    return future
