"""The Relay `Node` interface, and the registry of the types that implement it.

A type is a node in one place, its own class: `@node(scope=...)` above `@strawberry.type`
says which consent scope reading it by id needs, and its `resolve_node` says how it is
loaded by primary key (through its loader). `node(id:)`/`nodes(ids:)`, the decoding of
global ids and the schema's list of types all read this registry, so nothing else needs an
edit when a type is added.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Self, TypeVar

import strawberry

if TYPE_CHECKING:
    from graph.context import Info


@strawberry.interface(description="An object with a global ID.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global ID; `node(id:)` fetches the object again."
    )

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Self | None:
        """The object with primary key `pk`, or None when there is none this request may
        read: another customer's object must look exactly like a missing one."""
        raise NotImplementedError(f"{cls.__name__} does not say how it is loaded")


@dataclass(frozen=True, slots=True)
class NodeType:
    """A registered node type: its class and the scope reading it by id needs (None: any
    valid token may)."""

    cls: type[Node]
    scope: str | None


_REGISTRY: dict[str, NodeType] = {}
# Every registered type by GraphQL name, read-only: `@node` is the one way in.
NODE_TYPES: Mapping[str, NodeType] = MappingProxyType(_REGISTRY)

NodeT = TypeVar("NodeT", bound=type[Node])


def node(*, scope: str | None) -> Callable[[NodeT], NodeT]:
    """Registers a `Node` type under its GraphQL name; goes above `@strawberry.type`."""

    def register(cls: NodeT) -> NodeT:
        # Its own definition: a subclass inherits the one of Node.
        definition = vars(cls).get("__strawberry_definition__")
        if definition is None or not issubclass(cls, Node):
            raise TypeError(f"@node goes above @strawberry.type, on a Node: {cls.__name__}")
        if "resolve_node" not in vars(cls):
            raise TypeError(f"{cls.__name__} must define resolve_node")
        name: str = definition.name
        if name in _REGISTRY:
            raise TypeError(f"two node types are named {name}")
        _REGISTRY[name] = NodeType(cls, scope)
        return cls

    return register


def node_classes() -> list[type[Node]]:
    """Every registered node type, by name: the schema lists them all, so that each is in
    it even when no field returns it by its own type."""
    return [_REGISTRY[name].cls for name in sorted(_REGISTRY)]
