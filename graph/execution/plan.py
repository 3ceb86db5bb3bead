"""A query compiled into completion steps, and the run that follows them.

A plan is made once per (document, operation): graphql-core's own `collect_fields` merges the
selections (aliases, fragments) exactly as it would at run time, and each field becomes a step
that knows how to read its value (an attribute of the object, or the field's Strawberry
resolver) and how to complete it for its type. Running a plan walks the result breadth first:
every resolver of one level is started before any is awaited, so dataloaders batch across
rows as they do under graphql-core.

The run also collects the global ids the answer holds, for the audit, in the order
`graph.audit.returned_ids` reads them back from a result: an object's ids, then its fields'.
"""

from __future__ import annotations

import asyncio
from asyncio import isfuture
from collections.abc import Callable, Iterable
from contextvars import Context, copy_context
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Node,
    OperationType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.permission import PermissionExtension
from strawberry.types.arguments import convert_arguments

from graph.audit.returned_ids import is_global_id
from graph.core.permissions import HasScope
from graph.execution.codegen import object_function
from graph.execution.steps import (
    ATTRIBUTE,
    RESOLVER,
    STANDARD_ONLY,
    TYPENAME,
    Complete,
    FieldStep,
    ObjectStep,
    Unplanned,
)
from graph.relay.node import Node as RelayNode

# The root fields a plan may start from: the lists that carry the load.
ROOT_FIELDS = frozenset({"accounts", "cards", "transactions", "transfers", "servicePayments"})

if TYPE_CHECKING:
    from graphql.execution.executor import Executor


def compile_plan(executor: Executor) -> ObjectStep:
    """The plan of the executor's operation; raises Unplanned for a shape it does not cover."""
    operation = executor.operation
    if operation.operation is not OperationType.QUERY:
        raise Unplanned("not a query")
    middleware = executor.middleware_manager
    if middleware is not None and middleware.middlewares:
        raise Unplanned("resolver middleware")  # a plan calls resolvers unwrapped
    converter = executor.schema.extensions["strawberry-definition"].schema_converter
    if getattr(converter, "_exception_handler_specs", None):
        raise Unplanned("exception handlers")  # they turn a resolver's errors into results
    fragments = [f.definition for f in executor.fragments.values()]
    if not _free_of_directives([operation, *fragments]):
        raise Unplanned("directives")
    root = executor.schema.query_type
    assert root is not None  # a query was validated against it
    collected = collect_fields(
        executor.schema,
        executor.fragments,
        executor.variable_values,
        root,
        operation,
        executor.hide_suggestions,
    )
    names = {details[0].node.name.value for details in collected.grouped_field_set.values()}
    if not names <= ROOT_FIELDS | {"__typename"}:
        raise Unplanned("root field")
    return _Compiler(executor).fields(root, collected.grouped_field_set.items())


class Completion(NamedTuple):
    """How a value of one type is completed, and what lies below it."""

    complete: Complete
    carries_ids: bool  # an `id` below
    needs_path: bool  # a resolver below
    scopes: frozenset[str]  # the scopes gating fields below
    step: ObjectStep | None  # the object's step, for an object or a list of them


class _Compiler:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def fields(
        self, parent: GraphQLObjectType, grouped: Iterable[tuple[str, list[FieldDetails]]]
    ) -> ObjectStep:
        step = ObjectStep(parent)
        for key, details in grouped:
            field_step = self.field(parent, key, details)
            step.fields.append(field_step)
            step.carries_ids = step.carries_ids or field_step.is_id or field_step.carries_ids
            step.needs_path = step.needs_path or field_step.needs_path
            step.scopes |= field_step.scopes
        step.complete = object_function(step)
        return step

    def field(self, parent: GraphQLObjectType, key: str, details: list[FieldDetails]) -> FieldStep:
        if any(d.defer_usage or d.fragment_variable_values for d in details):
            raise Unplanned("deferred or fragment variables")
        nodes = [d.node for d in details]
        name = nodes[0].name.value
        if name == "__typename":
            return FieldStep(key, TYPENAME, "", _never, None, nodes, False, False, False, False)
        definition = parent.fields.get(name)
        strawberry_field = (
            definition.extensions.get("strawberry-definition") if definition else None
        )
        if definition is None or strawberry_field is None:
            raise Unplanned(f"field {name}")  # introspection, or not a Strawberry field
        if strawberry_field.metadata.get(STANDARD_ONLY):
            raise Unplanned(f"{parent.name}.{name} is resolved by the standard executor")
        done = self.completer(definition.type, details)
        basic = strawberry_field.is_basic_field and strawberry_field.default_resolver is getattr
        is_id = name == "id"
        inner: Any = definition.type
        non_null = isinstance(inner, GraphQLNonNull)
        if non_null:
            inner = inner.of_type
        items: Any = inner.of_type if isinstance(inner, GraphQLList) else None
        items_non_null = isinstance(items, GraphQLNonNull)
        if items_non_null:
            items = items.of_type
        of_objects = isinstance(inner, GraphQLObjectType) or isinstance(items, GraphQLObjectType)
        return FieldStep(
            key,
            ATTRIBUTE if basic else RESOLVER,
            strawberry_field.python_name,
            done.complete,
            definition,
            nodes,
            is_id,
            is_id and _is_relay_node(parent),
            done.carries_ids,
            done.needs_path or not basic,
            inner.serialize if is_leaf_type(inner) else None,
            non_null,
            done.scopes | _gates(strawberry_field),
            done.step if of_objects else None,
            items is not None,
            items_non_null,
            strawberry_field,
        )

    def completer(self, type_: GraphQLOutputType, details: list[FieldDetails]) -> Completion:
        """How to complete a value of `type_`."""
        if isinstance(type_, GraphQLNonNull):
            inner = self.completer(type_.of_type, details)
            complete_inner = inner.complete

            def non_null(value: Any, path: Path | None, run: Run, sink: list[Any] | None) -> Any:
                if value is None:
                    raise Unplanned("null for a non-null field")
                return complete_inner(value, path, run, sink)

            return inner._replace(complete=non_null)
        if isinstance(type_, GraphQLList):
            of_items = self.completer(type_.of_type, details)
            item = of_items.complete

            def items(value: Any, path: Path | None, run: Run, sink: list[Any] | None) -> Any:
                if value is None:
                    return None
                if type(value) is not list and type(value) is not tuple:
                    raise Unplanned("not a list")
                if path is None:
                    return [item(v, None, run, sink) for v in value]
                return [item(v, path.add_key(i), run, sink) for i, v in enumerate(value)]

            return of_items._replace(complete=items)
        if is_leaf_type(type_):
            serialize = type_.serialize

            def leaf(value: Any, path: Path | None, run: Run, sink: list[Any] | None) -> Any:
                if value is None:
                    return None
                serialized = serialize(value)
                if serialized is None or serialized is Undefined:
                    raise Unplanned("a value its type cannot serialize")
                return serialized

            return Completion(leaf, False, False, frozenset(), None)
        if isinstance(type_, GraphQLObjectType):
            collected = collect_subfields(
                self.executor.schema,
                self.executor.fragments,
                self.executor.variable_values,
                self.executor.operation,
                type_,
                details,
                self.executor.hide_suggestions,
            )
            step = self.fields(type_, collected.grouped_field_set.items())

            def obj(value: Any, path: Path | None, run: Run, sink: list[Any] | None) -> Any:
                if value is None:
                    return None
                return step.complete(value, path, run, sink)

            return Completion(obj, step.carries_ids, step.needs_path, step.scopes, step)
        raise Unplanned(f"abstract type {type_}")


def _never(value: Any, path: Path | None, run: Run, sink: list[Any] | None) -> Any:
    raise AssertionError("__typename is not completed")  # pragma: no cover


def _gates(strawberry_field: Any) -> frozenset[str]:
    """The consent scopes a field's permission extension asks for; Unplanned for any other
    extension (the plan would not know what it does)."""
    scopes: set[str] = set()
    for extension in strawberry_field.extensions:
        if not isinstance(extension, PermissionExtension):
            raise Unplanned(f"field extension {type(extension).__name__}")
        for permission in extension.permissions:
            if not isinstance(permission, HasScope):
                raise Unplanned(f"permission {type(permission).__name__}")
            scopes.add(permission.scope)
    return frozenset(scopes)


def _is_relay_node(type_: GraphQLObjectType) -> bool:
    origin = getattr(type_.extensions.get("strawberry-definition"), "origin", None)
    return isinstance(origin, type) and issubclass(origin, RelayNode)


def _free_of_directives(roots: list[Node]) -> bool:
    stack = list(roots)
    while stack:
        node = stack.pop()
        if getattr(node, "directives", None):
            return False
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return True


# (the object's dict, the field, the resolver's awaitable, its path, its id sink)
_Pending = tuple[dict[str, Any], FieldStep, Any, Path, "list[Any] | None"]


# A resolver being run: its pending entry, its context, the future it waits on.
_Running = tuple[_Pending, Context, "asyncio.Future[Any] | None"]


# A resolver called directly: the function, whether it takes the object as `self`, its
# arguments, and the names of the arguments that take the object (root, parent).
_Call = tuple[Callable[..., Any], bool, dict[str, Any], tuple[str, ...]]


class Run:
    """One execution of a plan."""

    __slots__ = ("_arguments", "_calls", "_running", "executor", "pending")

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.pending: list[_Pending] = []
        self._running: list[_Running] = []
        self._arguments: dict[int, dict[str, Any]] = {}
        self._calls: dict[int, _Call] = {}

    async def execute(self, root: ObjectStep, root_value: Any) -> tuple[dict[str, Any], list[str]]:
        """The operation's data and the global ids in it, each once, in order."""
        sink: list[Any] | None = [] if root.carries_ids else None
        try:
            data = root.complete(root_value, None, self, sink)
            while self.pending:
                batch, self.pending = self.pending, []
                await self._settle(batch)
        except BaseException:
            self._discard()
            raise
        ids: list[str] = []
        if sink is not None:
            _flatten(sink, ids)
        return data, list(dict.fromkeys(ids))

    def resolve(
        self,
        step: ObjectStep,
        f: FieldStep,
        source: Any,
        path: Path,
        out: dict[str, Any],
        sink: list[Any] | None,
        own: list[str] | None,
    ) -> None:
        call = self._calls.get(id(f))
        if call is None:
            call = self._calls[id(f)] = self._prepare(step, f, source, path)
        resolver, takes_self, arguments, source_names = call
        if source_names:
            arguments = {**arguments, **dict.fromkeys(source_names, source)}
        result = resolver(source, **arguments) if takes_self else resolver(**arguments)
        if self.executor.is_awaitable(result):
            out[f.key] = None  # keeps the field's place in the answer
            self.pending.append((out, f, result, path, sink))
            if f.is_id:  # its place among the audit's ids would be lost
                raise Unplanned("an id from an async resolver")
            return
        value = f.complete(result, path, self, sink)
        out[f.key] = value
        if own is not None and f.is_id and isinstance(value, str) and is_global_id(value):
            own.append(value)

    async def _settle(self, batch: list[_Pending]) -> None:
        """Runs one level's resolvers to their values and completes them.

        Each coroutine is stepped by hand, as a task would step it (in its own copy of the
        context), until it waits on a future; then all wait together, so their dataloaders
        batch as they do under graphql-core's gather, without a task per resolver (on a
        nested page, two per row). What completing a value starts goes to the next level.
        A resolver that fails, or yields something other than a future, hands the query to
        graphql-core once the others under way have run to their end."""
        running: list[_Running] = [(entry, copy_context(), None) for entry in batch]
        self._running = running
        while running:
            waiting: list[_Running] = []
            for index, item in enumerate(running):
                try:
                    still = self._step(item)
                except Exception:
                    # The resolvers under way run to their end first, as under gather: one
                    # stopped mid-statement would leave the request's connection unusable.
                    self._running = [*waiting, *running[index + 1 :]]
                    await self._drain()
                    raise
                if still is not None:
                    waiting.append(still)
            self._running = running = waiting
            await _wait_for_any(waiting)

    async def _drain(self) -> None:
        """Runs the resolvers under way to their end, their values and errors unused. Those
        not started yet stay in `_running`, for `_discard` to close."""
        running = [item for item in self._running if item[2] is not None]
        self._running = [item for item in self._running if item[2] is None]
        while running:
            waiting: list[_Running] = []
            for item in running:
                entry, context, blocked_on = item
                if blocked_on is not None and not blocked_on.done():
                    waiting.append(item)
                    continue
                try:
                    done, still = self._resume(entry, context)
                except Exception:  # noqa: S112 - failed: done, as gather's return_exceptions
                    continue
                if not done:
                    waiting.append(still)
            running = waiting
            await _wait_for_any(running)

    def _step(self, item: _Running) -> _Running | None:
        """Steps one resolver: what it waits on now, or None once its value is completed."""
        entry, context, blocked_on = item
        if blocked_on is not None and not blocked_on.done():
            return item
        try:
            done, value = self._resume(entry, context)
        except Unplanned:
            raise
        except Exception as error:
            raise Unplanned("a resolver failed") from error
        if not done:
            return value  # what it waits on
        out, f, _, path, sink = entry
        out[f.key] = f.complete(value, path, self, sink)
        return None

    def _resume(self, entry: _Pending, context: Context) -> tuple[bool, Any]:
        """Runs a resolver on until it waits: (True, its value), or (False, what it waits
        on). A bare yield (`asyncio.sleep(0)`) waits for the next round."""
        awaitable = entry[2]
        if isfuture(awaitable):
            if not awaitable.done():
                return False, (entry, context, awaitable)
            return True, awaitable.result()
        try:
            yielded = context.run(awaitable.send, None)
        except StopIteration as stop:
            return True, stop.value
        if yielded is None:
            ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            ready.set_result(None)
            return False, (entry, context, ready)
        if not isfuture(yielded) or not yielded._asyncio_future_blocking:
            awaitable.close()
            raise Unplanned("a resolver awaited something not a future")
        yielded._asyncio_future_blocking = False
        return False, (entry, context, yielded)

    def _prepare(self, step: ObjectStep, f: FieldStep, source: Any, path: Path) -> _Call:
        """What Strawberry's wrapper around `f`'s resolver works out on every call, worked out
        on the first: the resolve info (the first call's; resolvers read its context, and
        an error, which needs the path, goes to graphql-core anyway), the gate (the consent
        does not change between rows; asking records the scope for the audit, as the
        wrapper does), and the arguments converted to their Python types."""
        definition, field = f.definition, f.strawberry
        assert definition is not None and field is not None and field.base_resolver is not None
        raw = self.executor.build_resolve_info(definition, f.nodes, step.type, path)
        strawberry_schema = self.executor.schema.extensions["strawberry-definition"]
        config = strawberry_schema.config
        info = config.info_class(_raw_info=raw, _field=field)
        for extension in field.extensions:
            for permission in extension.permissions:
                if not permission.has_permission(source, info):
                    raise Unplanned("a gate refused")
        arguments = convert_arguments(
            self._args(f),
            field.arguments,
            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
            config=config,
            info=info,
        )
        for extension in field.extensions:
            arguments = extension.map_arguments(arguments)
        resolver = field.base_resolver
        if resolver.info_parameter is not None:
            arguments[resolver.info_parameter.name] = info
        source_names = tuple(
            p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
        )
        return resolver.wrapped_func, resolver.self_parameter is not None, arguments, source_names

    def _args(self, f: FieldStep) -> dict[str, Any]:
        found = self._arguments.get(id(f))
        if found is None:
            definition = f.definition
            assert definition is not None
            node = f.nodes[0]
            found = (
                get_argument_values(
                    definition,
                    node,
                    self.executor.variable_values,
                    None,
                    self.executor.hide_suggestions,
                )
                if definition.args or node.arguments
                else {}
            )
            self._arguments[id(f)] = found
        return found

    def _discard(self) -> None:
        """Closes the resolvers never awaited or left waiting, so none warns or runs on; what
        else they started (a dataloader's future, its batch under way) is left to the
        executor to settle before it answers (graph/execution/settled.py)."""
        started = []
        waiting: list[tuple[_Pending, asyncio.Future[Any] | None]] = [
            (entry, None) for entry in self.pending
        ]
        waiting += [(entry, blocked_on) for entry, _, blocked_on in self._running]
        for entry, blocked_on in waiting:
            awaitable = entry[2]
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            else:
                started.append(awaitable)
            if blocked_on is not None and not blocked_on.done():
                started.append(blocked_on)
        self.pending = []
        self._running = []
        if started:
            self.executor.settle_in_background(started)


async def _wait_for_any(items: list[_Running]) -> None:
    """Until one of the futures `items` wait on is done (or, when none is pending, one turn
    of the loop, as `asyncio.sleep(0)` gives)."""
    futures = {item[2] for item in items if item[2] is not None and not item[2].done()}
    if futures:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    elif items:
        await asyncio.sleep(0)


def _flatten(sink: list[Any], into: list[str]) -> None:
    for item in sink:
        if type(item) is list:
            _flatten(item, into)
        else:
            into.append(item)
