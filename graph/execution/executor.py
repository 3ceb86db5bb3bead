"""graphql-core's executor with a plan first (graph/execution/plan.py).

`execute_operation` is graphql-core's hook for running an operation once the executor holds
its document, variables and context: a planned query runs its plan there; an unplanned one,
or one whose plan met an error, runs as graphql-core would run it, from the start (the
resolvers a plan already called answer again from the request's dataloaders). Either way the
answer waits for every resolver started (graph/execution/settled.py).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from graphql import OperationDefinitionNode

from graph.audit.trail import Trail
from graph.context import Context
from graph.core.documents import PerDocument
from graph.core.loaders import RequestLoaders
from graph.execution.plan import ObjectStep, Run, Unplanned, compile_plan
from graph.execution.settled import SettledExecutor

log = logging.getLogger("graph.execution")


def _plan_of(executor: PlannedExecutor) -> ObjectStep | None:
    try:
        return compile_plan(executor)
    except Unplanned as reason:
        log.debug("operation not planned: %s", reason)
        return None


class PlannedExecutor(SettledExecutor):
    # operation -> its plan (None: not planned); the operation is one parsed document's
    plans: ClassVar[PerDocument[OperationDefinitionNode, ObjectStep | None]]

    def execute_operation(self, serially: bool | None = None) -> Any:
        trail = getattr(self.context_value, "trail", None)
        if not isinstance(trail, Trail) or self.abort_signal is not None:
            return super().execute_operation(serially)
        plan = self.plans.get(self.operation, lambda: _plan_of(self))
        if plan is None or not self._granted(plan):
            return super().execute_operation(serially)
        return self.settled(self._run(plan, trail, serially))

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
            # graphql-core answers as if the plan had not run: with loaders of its own, so it
            # meets what it would meet alone, in the same order (the plan's loaders may hold
            # rows and errors already, and would settle fields in another order).
            if isinstance(self.context_value, Context):
                self.context_value.loaders = RequestLoaders(self.context_value)
            result = super().execute_operation(serially)
            return await result if self.is_awaitable(result) else result
        trail.returned(ids)
        return self.build_response(data)


def planned_executor() -> type[PlannedExecutor]:
    """An executor class with a plan cache of its own, for one schema."""
    return type("PlannedExecutor", (PlannedExecutor,), {"plans": PerDocument()})
