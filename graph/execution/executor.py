"""graphql-core's executor with a plan first (graph/execution/plan.py).

`execute_operation` is graphql-core's hook for running an operation once the executor holds
its document, variables and context: a planned query runs its plan there; an unplanned one,
or one whose plan met an error, runs as graphql-core would run it, from the start (the
resolvers a plan already called answer again from the request's dataloaders).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, ClassVar

from graphql import OperationDefinitionNode
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.audit.trail import Trail
from graph.execution.plan import ObjectStep, Run, Unplanned, compile_plan

log = logging.getLogger("graph.execution")

# Plans of this many operations are kept per schema; an operation is one parsed document's
# (Strawberry's parser cache hands the same document back for the same text).
PLAN_CACHE_SIZE = 512


class PlanCache:
    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self.size = size
        # id(operation) -> (the operation, kept alive so its id is not reused; its plan or None)
        self._plans: OrderedDict[int, tuple[OperationDefinitionNode, ObjectStep | None]] = (
            OrderedDict()
        )

    def plan(self, executor: PlannedExecutor) -> ObjectStep | None:
        key = id(executor.operation)
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
            return found[1]
        try:
            plan: ObjectStep | None = compile_plan(executor)
        except Unplanned as reason:
            log.debug("operation not planned: %s", reason)
            plan = None
        self._plans[key] = (executor.operation, plan)
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    plans: ClassVar[PlanCache]

    def execute_operation(self, serially: bool | None = None) -> Any:
        trail = getattr(self.context_value, "trail", None)
        if not isinstance(trail, Trail) or self.abort_signal is not None:
            return super().execute_operation(serially)
        plan = self.plans.plan(self)
        if plan is None or not self._granted(plan):
            return super().execute_operation(serially)
        return self._run(plan, trail, serially)

    def _granted(self, plan: ObjectStep) -> bool:
        """Whether the consent grants every scope that gates a field of the plan. If not, the
        standard executor answers from the start: its null and FORBIDDEN error for the gated
        field, without the reads a plan would have made before meeting the gate. (Asked of
        the principal, not `Context.may`: the audit records the scopes the answer used.)"""
        principal = getattr(self.context_value, "principal", None)
        may = getattr(principal, "may", None)
        return may is not None and all(may(scope) for scope in plan.scopes)

    async def _run(self, plan: ObjectStep, trail: Trail, serially: bool | None) -> Any:
        try:
            data, ids = await Run(self).execute(plan, self.root_value)
        except Exception as reason:
            log.debug("plan handed over to the standard executor: %r", reason)
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        trail.returned(ids)
        return self.build_response(data)


def planned_executor() -> type[PlannedExecutor]:
    """An executor class with a plan cache of its own, for one schema."""
    return type("PlannedExecutor", (PlannedExecutor,), {"plans": PlanCache()})
