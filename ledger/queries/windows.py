"""Keyset windows: slices of a sorted list by position, never by OFFSET."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    func,
    literal,
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


def _values(keys: Sequence[ColumnElement[Any]], position: Position) -> Any:
    # Typed literals, so timestamps go through the column type (UTC handling on SQLite).
    typed = [literal(value, key.type) for key, value in zip(keys, position, strict=True)]
    return typed[0] if len(typed) == 1 else tuple_(*typed)


def bounded(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    """`stmt` limited to the window's positions. Row-value comparisons,
    `(booking_date, id) < (:d, :id)`, which both databases answer from an
    `(account_id, booking_date, id)` index."""
    if window.above is not None:
        stmt = stmt.where(_row(keys) > _values(keys, window.above))
    if window.below is not None:
        stmt = stmt.where(_row(keys) < _values(keys, window.below))
    return stmt


def ordered(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    """`stmt` sorted in the window's direction and cut at its size."""
    order = [key.desc() if window.descending else key.asc() for key in keys]
    return stmt.order_by(*order).limit(window.limit)


def windowed(stmt: Select[Any], keys: Sequence[ColumnElement[Any]], window: Window) -> Select[Any]:
    return ordered(bounded(stmt, keys, window), keys, window)


async def per_account_window(
    session: AsyncSession,
    t: Table,
    shape: Shape[RowT],
    keys: Sequence[str],
    account_ids: Sequence[int],
    conditions: Sequence[ColumnElement[bool]],
    window: Window,
) -> list[RowT]:
    """One statement for a window over the rows of several accounts.

    Each account is read through its own `(account_id, key, id)` index range and the small
    per-account windows are merged, instead of sorting every row of every account: the
    cost follows the page size and the number of accounts, not the length of the history.
    The merge handles sort keys only; the page's rows, `shape`'s columns of `t`, are then
    joined by primary key.
    """
    if not account_ids:
        return []
    own_keys = [t.c[k] for k in keys]
    if len(account_ids) == 1:
        stmt = select(*shape.columns).where(t.c.account_id == account_ids[0], *conditions)
        return await fetch(session, windowed(stmt, own_keys, window), shape)

    def part(account_id: int) -> Select[Any]:
        stmt = select(*own_keys).where(t.c.account_id == account_id, *conditions)
        return windowed(stmt, own_keys, window)

    merged = union_all(*(select(part(a).subquery()) for a in account_ids)).subquery()
    page = ordered(select(merged), [merged.c[k] for k in keys], window).subquery()
    joined = select(*shape.columns).join(page, t.c.id == page.c.id)
    return await fetch(session, ordered(joined, [page.c[k] for k in keys], window), shape)


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
