"""The global ids a GraphQL answer holds, for the audit: every `id` field the operation
selected (under any alias, through fragments), read back from the result.

Only `id` fields count, so the walk visits just the keys that lead to one; a value is taken
only if it is a well-formed global id (an alias shared by fields of different types in
sibling fragments may hold something else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from graph.core.errors import BadUserInput
from graph.relay.ids import from_global_id

# Per selection: the response keys holding an `id`, and the keys with selections below them.
_Plan = tuple[list[str], dict[str, list[SelectionSetNode]]]


def returned_ids(
    document: DocumentNode, operation: OperationDefinitionNode, data: Mapping[str, Any]
) -> list[str]:
    """The global ids in `data`, the result of `operation`, each once, in order."""
    walk = _Walk(
        {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    )
    walk.visit(data, [operation.selection_set])
    return list(dict.fromkeys(walk.found))


class _Walk:
    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.found: list[str] = []
        # The items of a list share their selections: plan them once.
        self._plans: dict[tuple[int, ...], _Plan] = {}

    def visit(self, value: Any, selections: Sequence[SelectionSetNode]) -> None:
        if isinstance(value, list):
            for item in value:
                self.visit(item, selections)
            return
        if not isinstance(value, Mapping):
            return
        id_keys, nested = self._plan(selections)
        for key in id_keys:
            found = value.get(key)
            if isinstance(found, str) and is_global_id(found):
                self.found.append(found)
        for key, below in nested.items():
            child = value.get(key)
            if child is not None:
                self.visit(child, below)

    def _plan(self, selections: Sequence[SelectionSetNode]) -> _Plan:
        memo = tuple(id(s) for s in selections)
        plan = self._plans.get(memo)
        if plan is None:
            plan = ([], {})
            for selection_set in selections:
                self._add(selection_set, plan, set())
            self._plans[memo] = plan
        return plan

    def _add(self, selection_set: SelectionSetNode, plan: _Plan, spread: set[str]) -> None:
        id_keys, nested = plan
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                if selection.name.value == "id" and key not in id_keys:
                    id_keys.append(key)
                if selection.selection_set is not None:
                    nested.setdefault(key, []).append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                self._add(selection.selection_set, plan, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                # Validation forbids cycles; the guard only keeps this walk finite regardless.
                if fragment is not None and name not in spread:
                    self._add(fragment.selection_set, plan, spread | {name})


def is_global_id(value: str) -> bool:
    try:
        from_global_id(value)
    except BadUserInput:
        return False
    return True
