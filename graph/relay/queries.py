"""`node(id:)` and `nodes(ids:)`: any object by its global id.

An object of another customer, or of an account outside the consent, answers exactly like
an id that does not exist: null, no error. A type outside the token's scopes answers with
FORBIDDEN before anything is read. Either way the request's audit row is `denied` and
holds the id asked for (graph/audit/trail.py).

A list filter naming ids (`accountIds`, `cardIds`, ...) keeps its answer (an unreadable id
narrows the list as one that does not exist would), and `refuse_unreadable` puts each such
id on the audit row by the same rule as `node`: the type's own `resolve_node`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import cast

import strawberry

from graph.context import Info
from graph.core.errors import BadUserInput, Forbidden
from graph.relay.ids import from_global_id, pks_of, to_global_id
from graph.relay.node import NODE_TYPES, Node


async def load_node(info: Info, type_name: str, pk: int) -> Node | None:
    """The object, or None; an id it cannot answer with is on the request's audit row."""
    node_type = NODE_TYPES[type_name]  # from_global_id let only registered names through
    scope = node_type.scope
    # The id in its one canonical spelling: what the client sent is its own text.
    global_id = to_global_id(type_name, pk)
    if scope is not None and not info.context.may(scope):
        info.context.trail.refuse(global_id)
        raise Forbidden(f"This needs the consent scope {scope}.", scope=scope)
    found = await node_type.cls.resolve_node(info, pk)
    if found is None:
        info.context.trail.refuse(global_id)
    return found


async def refuse_unreadable(info: Info, asked: Mapping[str, Sequence[str] | None]) -> None:
    """Audits as refused each id a list filter asked for (`asked`: ids by node type, as
    `FilterIds.named_ids` gives them) that the request may not read: another customer's,
    outside the consent, or none at all. The filter's answer is not changed."""
    for type_name, ids in asked.items():
        pks = pks_of(ids, type_name) or []
        cls = NODE_TYPES[type_name].cls
        found = await asyncio.gather(*(cls.resolve_node(info, pk) for pk in pks))
        for pk, node in zip(pks, found, strict=True):
            if node is None:
                info.context.trail.refuse(to_global_id(type_name, pk))


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = from_global_id(id)
        return await load_node(info, type_name, pk)

    @strawberry.field(description="Objects by global ID, in order; null where there is none.")
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        maximum = info.context.settings.max_page_size
        if len(ids) > maximum:
            raise BadUserInput(f"`ids` takes at most {maximum} IDs.", maximum=maximum)
        decoded = [from_global_id(i) for i in ids]
        # Each item is awaited on its own, so a FORBIDDEN type nulls only its own items;
        # the loaders still batch every type into one query.
        return cast("list[Node | None]", [load_node(info, t, pk) for t, pk in decoded])
