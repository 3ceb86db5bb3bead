"""Checks shared by the arguments and filter inputs: every one fails as BAD_USER_INPUT,
before any read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import TypeVar

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from graph.core.documents import PerDocument
from graph.core.errors import BadUserInput

T = TypeVar("T")

# Bounds the number of bound parameters a filter can put into one statement.
MAX_LIST_ITEMS = 100


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadUserInput("`from` must not be after `to`.")


def check_list(name: str, values: Sequence[T] | None) -> list[T] | None:
    if values is None:
        return None
    if len(values) > MAX_LIST_ITEMS:
        raise BadUserInput(f"`{name}` takes at most {MAX_LIST_ITEMS} values.")
    return list(values)


def within(readable: Sequence[int], requested: Sequence[int] | None) -> list[int]:
    """The readable accounts, narrowed to the requested ones. An id the request may not
    read is dropped exactly like an id that does not exist."""
    if requested is None:
        return list(readable)
    wanted = set(requested)
    return [a for a in readable if a in wanted]


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored or compared alike on both databases, if it cannot:
    PostgreSQL refuses a NUL character, SQLite cuts the string at it; neither encodes a lone
    surrogate (JSON may carry one as an escape)."""
    if "\x00" in value:
        return "must not contain a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def _texts(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    """Every text in a variable's JSON value, with the input fields leading to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _texts(item, f"{path}.{key}")


def unusable_text(
    document: DocumentNode, variables: Mapping[str, object] | None
) -> BadUserInput | None:
    """The refusal of a request giving any argument a text no database may see, or None.
    Checked once per request, over the document's literals and the variables it uses, so
    that no resolver has to (Strings, IDs, and the texts of Dates and enums alike)."""
    values = variables or {}
    uses = _text_uses(document)
    for path, literal, variable in uses:
        texts = [("", literal)] if variable is None else _texts(values.get(variable))
        refusal = _refusal(path, texts)
        if refusal is not None:
            return refusal
    # A variable no argument uses is still parsed by graphql-core, and its errors quote it.
    for name, value in values.items():
        refusal = _refusal(f"${name}", _texts(value))
        if refusal is not None:
            return refusal
    return None


def _refusal(path: str, texts: Iterable[tuple[str, str]]) -> BadUserInput | None:
    for suffix, text in texts:
        problem = text_problem(text)
        if problem is not None:
            name = path + suffix
            return BadUserInput(f"`{name}` {problem}.", argument=name)
    return None


# Where a document's arguments take text, in document order: found once per document, since
# the walk costs more than the checks.
_TEXT_USES: PerDocument[DocumentNode, list[_Use]] = PerDocument()


def _text_uses(document: DocumentNode) -> list[_Use]:
    def find() -> list[_Use]:
        collect = _TextUses()
        visit(document, collect)
        return collect.uses

    return _TEXT_USES.get(document, find)


# (the argument's name and input fields, a literal text, or the variable giving it)
_Use = tuple[str, str, str | None]


class _TextUses(Visitor):
    """Every text given to an argument, as a literal or a variable, with the argument's name
    (and the input fields leading to it)."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []
        self.uses: list[_Use] = []

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, node: ArgumentNode, *_: object) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        self.path.pop()

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if self.path:
            self.uses.append((".".join(self.path), node.value, None))

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        if self.path:  # a use, not the variable's definition
            self.uses.append((".".join(self.path), "", node.name.value))


class CheckedText(SchemaExtension):
    """Refuses a request with unusable text (see `unusable_text`) before it runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        refusal = unusable_text(document, context.variables) if document else None
        if refusal is not None:
            # A result set before execution means graphql-core never runs the query.
            context.result = ExecutionResult(
                data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
            )
        yield
