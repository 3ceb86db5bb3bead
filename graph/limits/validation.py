"""Validation rules that limit a document, and the mark that lets their messages through.

In production a validation error's message is replaced by a generic one, because graphql-
core's messages name the schema's types and fields (graph.core.errors). A limit's message
names only the limit, and the client needs it to fix the query: `public_messages` marks
every error a rule reports as safe to show.

Directives are capped per location and per document (graphql-cop's "directive
overloading": thousands of `@a` on one field make validation report thousands of errors).
The schema has only `@include` and `@skip`, and one location takes each at most once, so a
legitimate field has at most two.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    GraphQLError,
    Node,
    ValidationContext,
    visit,
)
from graphql.language import Visitor
from graphql.validation.validate import ValidationAbortedError

from graph.core.errors import PUBLIC_MESSAGE


class _MarkingContext:
    """A validation context whose reported errors carry the public-message mark. A proxy,
    because rules report through `context.report_error` as often as `self.report_error`."""

    def __init__(self, context: ValidationContext) -> None:
        self._context = context

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), PUBLIC_MESSAGE: True}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def public_messages(rule: type[ASTValidationRule]) -> type[ASTValidationRule]:
    """`rule`, with its messages shown in production too. Make it once (at schema build):
    the validation cache is keyed by the rule classes."""

    def __init__(self: ASTValidationRule, context: ValidationContext) -> None:
        rule.__init__(self, _MarkingContext(context))  # type: ignore[arg-type]

    return type(rule.__name__, (rule,), {"__init__": __init__})


def directive_limit(per_location: int, per_document: int) -> type[ASTValidationRule]:
    """A rule refusing a document with more than `per_location` directives on one field,
    fragment or operation, or more than `per_document` in all, with one error: it counts
    when the document is entered, before the other rules look at any directive."""

    class _Count(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.total = 0
            self.crowded: Node | None = None

        def enter(self, node: Node, *_: Any) -> None:
            directives = getattr(node, "directives", None)
            if not directives or isinstance(node, DirectiveNode):
                return
            self.total += len(directives)
            if len(directives) > per_location and self.crowded is None:
                self.crowded = node

    class DirectiveLimit(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> Any:
            count = _Count()
            visit(node, count)
            where: Node | None = count.crowded
            if where is not None:
                message = f"More than {per_location} directives in one place."
            elif count.total > per_document:
                message = f"More than {per_document} directives in the document."
            else:
                return self.SKIP
            # Aborting ends validation here: the other rules would report each directive.
            # The abort is not reported through the context, so it carries the mark itself.
            raise ValidationAbortedError(message, where, extensions={PUBLIC_MESSAGE: True})

    return DirectiveLimit
