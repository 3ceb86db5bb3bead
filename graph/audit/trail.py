"""What one API request did, gathered while it runs: the scopes it asked about, its
operation, the global ids it returned, the error codes it answered with, and its rate-limit
decision. The response headers and the request's audit row are made from it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from graphql import get_operation_ast
from strawberry.extensions import SchemaExtension

from graph.audit.returned_ids import returned_ids
from graph.core.errors import ErrorCode
from graph.limits.buckets import Decision

OK = "ok"
DENIED = "denied"
ERROR = "error"
# A request refused for who is asking (or how often), rather than for what it asked.
_DENIALS = frozenset({ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.RATE_LIMITED})
ANONYMOUS = "anonymous"


@dataclass(slots=True)
class Trail:
    operation: str = ANONYMOUS
    scopes: set[str] = field(default_factory=set)
    ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    rate_limit: Decision | None = None

    @property
    def outcome(self) -> str:
        if any(code in _DENIALS for code in self.codes):
            return DENIED
        return ERROR if self.codes else OK


class RecordTrail(SchemaExtension):
    """Puts the operation's name and the global ids of its result on the context's trail.
    (The error codes are recorded where errors are made public, in the schema.)"""

    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        document = execution.graphql_document
        if document is None:
            return
        # The name as the document spells it, never a requested name that matched nothing:
        # that is arbitrary client text.
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None:
            return
        trail: Trail = execution.context.trail
        if operation.name is not None:
            trail.operation = operation.name.value
        result = execution.result
        if result is not None and result.data:
            trail.ids = returned_ids(document, operation, result.data)
