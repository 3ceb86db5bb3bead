"""Read queries over the ledger, shared by the API, exports and sync."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, cast, func


def sum_minor(column: Any) -> ColumnElement[int]:
    """SUM of a minor-units column as a 64-bit integer on both databases.

    PostgreSQL widens SUM(bigint) to numeric (a Decimal in Python); casting back keeps
    money integral end to end. An empty set sums to 0, not NULL.
    """
    return cast(func.coalesce(func.sum(column), 0), BigInteger)
