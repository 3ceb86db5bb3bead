"""What one API request did, gathered while it runs: the scopes it asked about, its
operation, the global ids it returned, the ids it asked for and may not read, the error codes
it answered with, and its rate-limit decision. The response headers and the request's audit
row are made from it.

An id the request may not read (another customer's object, one outside the consent, or none
at all) answers exactly like a missing one, so the client learns nothing; the audit row
records the attempt: outcome `denied`, with the id asked for. Telling "another customer's"
from "never issued" would take a lookup the answer must not depend on, so both are recorded
alike: either way the request named an object it could not read."""

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
    refused_ids: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    rate_limit: Decision | None = None
    # What an export wrote (format, period, SHA-256), for its audit row.
    detail: str | None = None
    # Set when the executor collected the returned ids as it built the answer.
    ids_collected: bool = False

    def refuse(self, global_id: str) -> None:
        """Records an id the request asked for and may not read (it answered as missing)."""
        self.refused_ids.append(global_id)

    def returned(self, ids: list[str]) -> None:
        """The global ids the answer holds, as the executor collected them."""
        self.ids = ids
        self.ids_collected = True

    @property
    def outcome(self) -> str:
        if self.refused_ids or any(code in _DENIALS for code in self.codes):
            return DENIED
        return ERROR if self.codes else OK

    @property
    def object_ids(self) -> list[str]:
        """The ids of the audit row: those returned, then those refused, each once."""
        return list(dict.fromkeys([*self.ids, *self.refused_ids]))


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
        if result is not None and result.data and not trail.ids_collected:
            trail.ids = returned_ids(document, operation, result.data)
