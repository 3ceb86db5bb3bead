"""Keyset windows: slices of a sorted list by position, never by OFFSET."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.queries.results import RowT, Shape, fetch

# A row's position in a list sorted by `(key..., id)`.
Position = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` rows strictly between two positions of a list sorted by
    `(key..., id)`, fetched in ascending or descending order. No OFFSET, so the
    ten-thousandth page costs what the first does."""

    limit: int
    descending: bool
    above: Position | None = None
    below: Position | None = None


def _row(keys: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    return keys[0] if len(keys) == 1 else tuple_(*keys)


def _values(keys: Sequence[ColumnElement[Any]], side: str) -> Any:
    # Typed parameters, so timestamps go through the column type (UTC handling on SQLite).
    typed = [bindparam(f"w_{side}_{i}", type_=key.type) for i, key in enumerate(keys)]
    return typed[0] if len(typed) == 1 else tuple_(*typed)


def window_parameters(window: Window) -> dict[str, Any]:
    """The values of the parameters `bounded` and `ordered` put in a statement."""
    values: dict[str, Any] = {"w_limit": window.limit}
    for side, position in (("above", window.above), ("below", window.below)):
        if position is not None:
            values.update((f"w_{side}_{i}", value) for i, value in enumerate(position))
    return values


def bounded(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    """`stmt` limited to the window's positions. Row-value comparisons,
    `(booking_date, id) < (:d, :id)`, which both databases answer from an
    `(account_id, booking_date, id)` index. The positions are parameters
    (`window_parameters`)."""
    if window.above is not None:
        stmt = stmt.where(_row(keys) > _values(keys, "above"))
    if window.below is not None:
        stmt = stmt.where(_row(keys) < _values(keys, "below"))
    return stmt


def ordered(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    """`stmt` sorted in the window's direction and cut at its size (a parameter)."""
    order = [key.desc() if window.descending else key.asc() for key in keys]
    return stmt.order_by(*order).limit(bindparam("w_limit", type_=Integer))


def windowed(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    return ordered(bounded(stmt, keys, window), keys, window)


# Window statements by their shape, for lists whose conditions hold no values (`reusable`):
# building the merge of several accounts costs more than running it (SQLAlchemy makes column
# proxies for every part of the union), and only the parameters differ between requests.
_BUILT: OrderedDict[Hashable, Select[Any]] = OrderedDict()
_BUILT_SIZE = 256


async def per_account_window(
    session: AsyncSession,
    t: Table,
    shape: Shape[RowT],
    keys: Sequence[str],
    account_ids: Sequence[int],
    conditions: Sequence[ColumnElement[bool]],
    window: Window,
    *,
    reusable: Hashable | None = None,
) -> list[RowT]:
    """One statement for a window over the rows of several accounts.

    Each account is read through its own `(account_id, key, id)` index range and the small
    per-account windows are merged, instead of sorting every row of every account: the
    cost follows the page size and the number of accounts, not the length of the history.
    The merge handles sort keys only; the page's rows, `shape`'s columns of `t`, are then
    joined by primary key.

    `reusable`, when given, names `conditions` (which then must hold no values of their
    own): the statement is built once per shape and reused with new parameters.
    """
    if not account_ids:
        return []
    n = len(account_ids)
    key = None
    if reusable is not None:
        key = (reusable, t.name, id(shape), tuple(keys), n, window.descending,
               window.above is None, window.below is None)  # fmt: skip
    stmt = _BUILT.get(key) if key is not None else None
    if stmt is None:
        stmt = _window_statement(t, shape, keys, n, conditions, window)
        if key is not None:
            _BUILT[key] = stmt
            if len(_BUILT) > _BUILT_SIZE:
                _BUILT.popitem(last=False)
    parameters = window_parameters(window)
    parameters.update((f"w_account_{i}", a) for i, a in enumerate(account_ids))
    return await fetch(session, stmt, shape, parameters)


def _window_statement(
    t: Table,
    shape: Shape[RowT],
    keys: Sequence[str],
    n: int,
    conditions: Sequence[ColumnElement[bool]],
    window: Window,
) -> Select[Any]:
    own_keys = [t.c[k] for k in keys]

    def account(i: int) -> ColumnElement[bool]:
        return t.c.account_id == bindparam(f"w_account_{i}", type_=t.c.account_id.type)

    if n == 1:
        return windowed(select(*shape.columns).where(account(0), *conditions), own_keys, window)

    def part(i: int) -> Select[Any]:
        return windowed(select(*own_keys).where(account(i), *conditions), own_keys, window)

    merged = union_all(*(select(part(i).subquery()) for i in range(n))).subquery()
    page = ordered(select(merged), [merged.c[k] for k in keys], window).subquery()
    joined = select(*shape.columns).join(page, t.c.id == page.c.id)
    return ordered(joined, [page.c[k] for k in keys], window)


async def count(
    session: AsyncSession,
    t: Table,
    account_ids: Sequence[int],
    conditions: Sequence[ColumnElement[bool]],
) -> int:
    """How many rows of `account_ids` meet `conditions`."""
    if not account_ids:
        return 0
    stmt = select(func.count()).select_from(t).where(t.c.account_id.in_(account_ids), *conditions)
    return int((await session.execute(stmt)).scalar_one())
