"""Field gating by consent scope.

A field outside the token's scopes resolves to null with one FORBIDDEN error naming the
missing scope. The check runs before the resolver, so it costs no database read; gated
fields are therefore nullable.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension

from graph.core.errors import Forbidden


class HasScope(BasePermission):
    def __init__(self, scope: str) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        allowed: bool = info.context.may(self.scope)
        return allowed

    def on_unauthorized(self) -> None:
        raise Forbidden(f"This needs the consent scope {self.scope}.", scope=self.scope)


def scope_gate(scope: str) -> PermissionExtension:
    return PermissionExtension([HasScope(scope)], use_directives=False)


def scoped(description: str, scope: str, **kwargs: Any) -> Any:
    """`strawberry.field` gated by `scope`; the description says which scope it needs."""
    return strawberry.field(
        description=f"{description} Requires scope {scope}.",
        extensions=[scope_gate(scope)],
        **kwargs,
    )
