"""Strict readers for upstream JSON fields.

Each reader either returns a value of the promised type or raises `MappingError` with a
reason naming the field, so one bad record becomes a SyncIssue and never an exception
that takes its page down. OBP sends `null` for any field the view hides, so optional
readers treat missing, null and "" alike.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.obp.dates import parse_timestamp
from ledger.money import Money, MoneyError, parse_decimal


class MappingError(ValueError):
    """One upstream record cannot be mapped; the message is the SyncIssue reason."""


class NonFiniteNumber:
    """A bare `NaN`, `Infinity` or `-Infinity` where JSON allows only numbers. The client
    parses it into this marker instead of failing the whole page; the record carrying one
    is quarantined (`check_finite`) and its siblings are mapped."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __str__(self) -> str:
        return self.literal

    __repr__ = __str__


class Finite(list[Any]):
    """A parsed JSON list known to hold no NonFiniteNumber (the parser met no bare
    literal), so nobody has to walk it looking for one."""


def _non_finite_at(value: Any, where: str) -> tuple[str, str] | None:
    if isinstance(value, NonFiniteNumber):
        return where, value.literal
    children: Any = ()
    if isinstance(value, dict):
        children = ((f"{where}.{key}" if where else str(key), v) for key, v in value.items())
    elif isinstance(value, list):
        children = ((f"{where}[{index}]", v) for index, v in enumerate(value))
    for path, child in children:
        found = _non_finite_at(child, path)
        if found is not None:
            return found
    return None


def check_finite(value: Any, what: str) -> None:
    """Raise MappingError naming the first field of `value` that holds a NonFiniteNumber."""
    found = _non_finite_at(value, "")
    if found is not None:
        path, literal = found
        raise MappingError(f"{path or what} is a bare {literal} literal, not a JSON number")


def obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"{what} is not an object")
    return value


def opt_obj(parent: dict[str, Any], key: str, what: str | None = None) -> dict[str, Any] | None:
    value = parent.get(key)
    return None if value is None else obj(value, what or key)


def opt_list(parent: dict[str, Any], key: str, what: str | None = None) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(f"{what or key} is not a list")
    return value


def opt_str(parent: dict[str, Any], key: str, what: str | None = None) -> str | None:
    value = parent.get(key)
    if type(value) is str:  # most often: one test ("" strips to nothing, hence None)
        return value.strip() or None
    if value is None:
        return None
    if not isinstance(value, str):
        raise MappingError(f"{what or key} is not a string")
    return value.strip() or None


def req_str(parent: dict[str, Any], key: str, what: str | None = None) -> str:
    value = opt_str(parent, key, what)
    if value is None:
        raise MappingError(f"{what or key} is missing")
    return value


def opt_bool(parent: dict[str, Any], key: str, what: str | None = None) -> bool | None:
    value = parent.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise MappingError(f"{what or key} is not a boolean")


def money(amount: Any, currency: Any, what: str) -> Money:
    """Exact money from a decimal string, taken as sent: no trimming, no case folding,
    no rounding. A JSON number is refused (OBP sends strings)."""
    if not isinstance(amount, str):
        raise MappingError(f"{what}.amount is not a decimal string")
    if not isinstance(currency, str) or not currency:
        raise MappingError(f"{what}.currency is missing")
    try:
        return Money.parse(amount, currency)
    except MoneyError as exc:
        raise MappingError(f"{what}: {exc}") from exc


def money_obj(parent: dict[str, Any], key: str, what: str | None = None) -> Money:
    """`{"currency": "TJS", "amount": "-120.50"}` at `parent[key]`."""
    value = obj(parent.get(key), what or key)
    return money(value.get("amount"), value.get("currency"), what or key)


def opt_money_obj(parent: dict[str, Any], key: str, what: str | None = None) -> Money | None:
    value = opt_obj(parent, key, what)
    if value is None or value.get("amount") is None:
        return None
    return money(value.get("amount"), value.get("currency"), what or key)


def decimal(value: Any, what: str) -> Decimal:
    """A decimal from a string or an exact JSON number (the client parses floats as Decimal)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MappingError(f"{what} is not a decimal")
    try:
        result = parse_decimal(value) if isinstance(value, str) else Decimal(value)
    except MoneyError as exc:
        raise MappingError(f"{what}: {exc}") from exc
    if not result.is_finite():
        raise MappingError(f"{what} is not finite")
    return result


def timestamp(text: str, what: str) -> datetime:
    try:
        return parse_timestamp(text)
    except ValueError:
        raise MappingError(f"{what} is not an ISO-8601 timestamp: {text[:40]!r}") from None


def opt_timestamp(parent: dict[str, Any], key: str, what: str | None = None) -> datetime | None:
    text = opt_str(parent, key, what)
    return None if text is None else timestamp(text, what or key)
