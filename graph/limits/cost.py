"""Query cost: an estimate of the work a query asks for, checked before it runs.

Every selected field costs 1, multiplied by the page sizes of the lists around it: in
`accounts(first: 10) { edges { node { transactions(first: 50) { edges { node { id }}}}}}`
each transaction `id` costs 10 * 50. A connection without `first`/`last` counts the default
page size; `nodes(ids:)` counts its ids; a field that makes a whole file (`statementExport`)
costs what a REST file costs (FIXED_COSTS), since it reads every row of its period. The
cost is reported in `extensions.cost`, and a query over the maximum is refused with
BAD_USER_INPUT before any resolver runs. A query within it is then offered to `admit` (the
rate limits), which may refuse it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql.type import GraphQLInterfaceType
from strawberry.extensions import SchemaExtension

from graph.core.errors import BadUserInput, PublicError

# Fields whose work no page size bounds: their own cost (REST's statement files charge the same).
FIXED_COSTS = {"statementExport": 500}
# (the request's context, its cost) -> the error refusing it, or None to let it run.
Admit = Callable[[Any, int], Awaitable[PublicError | None]]


class CostEstimator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        *,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._selections(operation.selection_set, root, 1)

    def _selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, multiplier: int
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selections(selection.selection_set, scope, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    scope = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._selections(fragment.selection_set, scope, multiplier)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, multiplier: int) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        field_type = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) and name in parent.fields:
            field_type = get_named_type(parent.fields[name].type)
        own = multiplier * FIXED_COSTS.get(name, 1)
        if node.selection_set is None:
            return own
        factor = self._list_factor(node, field_type)
        return own + self._selections(node.selection_set, field_type, multiplier * factor)

    def _list_factor(self, node: FieldNode, field_type: GraphQLNamedType | None) -> int:
        if node.name.value == "nodes":
            ids = self._argument(node, "ids")
            return len(ids) if isinstance(ids, list) else self.max_page_size
        if field_type is None or not field_type.name.endswith("Connection"):
            return 1
        for name in ("first", "last"):
            size = self._argument(node, name)
            if isinstance(size, int):
                return max(0, min(size, self.max_page_size))
        return self.default_page_size

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                return self.variables.get(value.name.value)
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return list(value.values)
        return None


class QueryCost(SchemaExtension):
    def __init__(
        self,
        *,
        maximum: int,
        default_page_size: int,
        max_page_size: int,
        admit: Admit | None = None,
    ) -> None:
        self.maximum = maximum
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.admit = admit
        self.requested: int | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            estimator = CostEstimator(
                context.schema._schema,
                {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                },
                context.variables or {},
                default_page_size=self.default_page_size,
                max_page_size=self.max_page_size,
            )
            self.requested = estimator.operation(operation)
            refusal: PublicError | None = None
            if self.requested > self.maximum:
                refusal = BadUserInput(
                    f"The query costs {self.requested}, more than the maximum "
                    f"{self.maximum}: ask for smaller pages or fewer fields.",
                    cost={"requested": self.requested, "maximum": self.maximum},
                )
            elif self.admit is not None:
                refusal = await self.admit(context.context, self.requested)
            if refusal is not None:
                # A result set before execution means graphql-core never runs the query.
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
                )
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "maximum": self.maximum}}
