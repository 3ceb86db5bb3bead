"""What a plan is made of: one step per object selection, one per field in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType
from graphql.pyutils import Path

if TYPE_CHECKING:
    from graph.execution.plan import Run

# Strawberry field metadata: this field is resolved by graphql-core's executor only (one that
# calls out to a bank, say, which a fallback must not repeat).
STANDARD_ONLY = "alif-graph:standard-executor"

# How a field's value is found: its type's name, an attribute of the object, its resolver.
TYPENAME, ATTRIBUTE, RESOLVER = range(3)

IdSink = list[Any] | None
# (value, path or None, run, id sink) -> the completed value
Complete = Callable[[Any, Path | None, "Run", IdSink], Any]
CompleteObject = Callable[[Any, Path | None, "Run", IdSink], dict[str, Any]]


class Unplanned(Exception):
    """The standard executor answers: a shape no plan covers (at compile time), or an error or
    a forbidden null met while running."""


@dataclass(slots=True)
class FieldStep:
    key: str  # the response key (the alias, if any)
    kind: int
    attribute: str
    complete: Complete
    definition: GraphQLField | None
    nodes: list[FieldNode]
    is_id: bool  # an `id` field: its value goes to the audit
    trusted_id: bool  # ... and a Node's, so it is a global id by construction
    carries_ids: bool  # some `id` lies below this field
    needs_path: bool  # a resolver at or below this field needs the path
    # A scalar or enum field: its serializer, and whether null is forbidden (inlined by codegen).
    serialize: Callable[[Any], Any] | None = None
    non_null: bool = False
    # The consent scopes that gate this field or fields below it.
    scopes: frozenset[str] = frozenset()
    # An object field, or a list of objects: the object's step, whether the field is
    # non-null, and for a list whether its items are (inlined by codegen).
    object_step: ObjectStep | None = None
    is_list: bool = False
    items_non_null: bool = False
    # The Strawberry field, whose resolver a run calls directly.
    strawberry: Any = None


def _unbuilt(source: Any, path: Path | None, run: Run, sink: IdSink) -> dict[str, Any]:
    raise AssertionError("an object step used before its code was generated")  # pragma: no cover


@dataclass(slots=True)
class ObjectStep:
    type: GraphQLObjectType
    fields: list[FieldStep] = field(default_factory=list)
    carries_ids: bool = False
    needs_path: bool = False
    # Generated once the fields are known (graph/execution/codegen.py).
    complete: CompleteObject = _unbuilt
    # The consent scopes that gate fields at or below this object.
    scopes: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.type.name
