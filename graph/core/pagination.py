"""Relay connections over keyset windows.

A cursor is an opaque base64 of the row's position in its list, `(sort key, id)`, tagged
with the kind of list it belongs to. `after`/`before` turn into bounds on that position, so
every page is an index range read: page 10,000 costs what page 1 costs. `totalCount` is a
separate COUNT, run only when a client selects it.

Every list is built by `connection`, the one place that parses `first/after/last/before`.
"""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from graph.core.errors import BadUserInput
from graph.settings import Settings
from ledger.queries.windows import Position, Window

if TYPE_CHECKING:
    from graph.context import Info

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque; pass it as `after` or `before`.")
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count_all: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items match, across all pages. Costs one COUNT query, which "
        "runs only when this field is selected."
    )
    async def total_count(self) -> int:
        return await self.count_all()


# URL-safe base64 (RFC 4648 section 5, padded) is standard base64 with two letters swapped:
# `base64.urlsafe_b64encode` is these calls under three layers of wrappers, which cost more
# than the encoding itself at a cursor per row.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True, slots=True)
class Ordering:
    """How a list is sorted: the cursor tag, the row's sort key, and the direction."""

    tag: str
    keys: Sequence[str]
    descending: bool
    # The row's sort key values as a tuple, made once (every edge of a page asks).
    _values: Callable[[object], tuple[Any, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        get = attrgetter(*self.keys)
        values = get if len(self.keys) > 1 else lambda row: (get(row),)
        object.__setattr__(self, "_values", values)

    def position(self, row: object) -> Position:
        return self._values(row)

    def encode(self, row: object) -> str:
        text = self.tag
        for value in self._values(row):
            # A datetime is a date too; an id is written as str() writes it.
            text = f"{text}|{value.isoformat() if isinstance(value, date) else value}"
        encoded = binascii.b2a_base64(text.encode(), newline=False)
        return encoded.translate(_TO_URLSAFE).decode("ascii")

    def decode(self, cursor: str) -> Position:
        try:
            raw = binascii.a2b_base64(cursor.encode("ascii").translate(_FROM_URLSAFE))
            parts = raw.decode("ascii").split("|")
            if parts[0] != self.tag or len(parts) != len(self.keys) + 1:
                raise ValueError("cursor of another list")
            return tuple(_parse_key(k, text) for k, text in zip(self.keys, parts[1:], strict=True))
        except (ValueError, UnicodeError, binascii.Error):
            raise BadUserInput(f"Malformed cursor: {cursor[:60]!r}.") from None


def _parse_key(key: str, text: str) -> Any:
    if key == "id":
        if not text.isdigit() or len(text) > 19:
            raise ValueError("bad id")
        return int(text)
    if key.endswith("_date"):
        return date.fromisoformat(text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Validated `first/after/last/before` of one list, as a keyset window."""

    ordering: Ordering
    size: int
    backward: bool
    after: Position | None
    before: Position | None

    @classmethod
    def parse(
        cls,
        ordering: Ordering,
        settings: Settings,
        *,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both.")
        for name, value in (("first", first), ("last", last)):
            if value is not None and value < 0:
                raise BadUserInput(f"`{name}` must not be negative.")
            if value is not None and value > settings.max_page_size:
                raise BadUserInput(
                    f"`{name}` must be at most {settings.max_page_size}.",
                    maximum=settings.max_page_size,
                )
        size = first if first is not None else last if last is not None else None
        return cls(
            ordering=ordering,
            size=settings.default_page_size if size is None else size,
            backward=last is not None,
            after=ordering.decode(after) if after is not None else None,
            before=ordering.decode(before) if before is not None else None,
        )

    @property
    def window(self) -> Window:
        # One row more than asked tells whether there is another page.
        descending = self.ordering.descending != self.backward
        later, earlier = self.after, self.before
        if self.ordering.descending:
            return Window(self.size + 1, descending, above=earlier, below=later)
        return Window(self.size + 1, descending, above=later, below=earlier)

    def connection(
        self,
        rows: Sequence[RowT],
        to_node: Callable[[RowT], NodeT],
        count_all: Callable[[], Awaitable[int]],
    ) -> Connection[NodeT]:
        more = len(rows) > self.size
        page = list(rows[: self.size])
        if self.backward:
            page.reverse()
        edges = [Edge(cursor=self.ordering.encode(r), node=to_node(r)) for r in page]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more if not self.backward else self.before is not None,
                has_previous_page=more if self.backward else self.after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count_all=count_all,
        )


async def connection(
    info: Info,
    ordering: Ordering,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    page: Callable[[AsyncSession, Window], Awaitable[Sequence[RowT]]],
    count: Callable[[AsyncSession], Awaitable[int]],
    to_node: Callable[[RowT], NodeT],
) -> Connection[NodeT]:
    """One page of a list: `page` reads the rows of a keyset window, `count` counts the
    whole list (only if `totalCount` is selected), `to_node` maps a row to its type. Both
    queries run on the request's session, one statement at a time."""
    context = info.context
    request = PageRequest.parse(
        ordering, context.settings, first=first, after=after, last=last, before=before
    )
    async with context.db.session() as session:
        found = await page(session, request.window)

    async def count_all() -> int:
        async with context.db.session() as session:
            return await count(session)

    return request.connection(found, to_node, count_all)
