"""Checks shared by the filter inputs: every one fails as BAD_USER_INPUT, before any read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypeVar

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
