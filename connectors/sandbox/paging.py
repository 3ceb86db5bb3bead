"""OBP's paging and date filters (APIUtil.createQueriesByHttpParams) over a history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from connectors.sandbox import errors
from connectors.sandbox.errors import ObpError
from connectors.sandbox.models import Transaction

DEFAULT_LIMIT = 50
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{4})$")


class History(Protocol):
    def __len__(self) -> int: ...

    def slice(self, start: int, stop: int) -> list[Transaction]: ...

    def bisect(self, moment: datetime, *, right: bool = False) -> int: ...


@dataclass(frozen=True, slots=True)
class PageQuery:
    limit: int | None  # None: everything
    offset: int
    from_date: datetime | None
    to_date: datetime | None
    descending: bool


def parse_obp_date(text: str) -> datetime:
    """`2024-01-31T00:00:00.000Z`, or the fallback `...000+0000`; else OBP-10026."""
    if not _DATE_RE.match(text):
        raise ObpError(errors.DATE_FORMAT)
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:  # e.g. February 30th
        raise ObpError(errors.DATE_FORMAT) from None


def _lookup(headers: Mapping[str, str], query: Mapping[str, str], name: str) -> str | None:
    # The unprefixed name wins over obp_NAME; the query string over headers.
    for key in (name, f"obp_{name}"):
        for source in (query, headers):
            if key in source:
                return source[key]
    return None


def _integer(text: str, minimum: int, message: str) -> int:
    if not re.fullmatch(r"[+-]?\d{1,18}", text.strip()):
        raise ObpError(message)
    value = int(text)
    if value < minimum:
        raise ObpError(message)
    return value


def read_page_query(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    *,
    default_limit: int | None = DEFAULT_LIMIT,
) -> PageQuery:
    """Paging from `obp_*` headers and unprefixed query parameters (names case-folded)."""
    lowered_headers = {k.lower(): v for k, v in headers.items()}
    lowered_query = {k.lower(): v for k, v in query.items()}

    def get(name: str) -> str | None:
        return _lookup(lowered_headers, lowered_query, name)

    limit_text, offset_text = get("limit"), get("offset")
    sort = get("sort_direction")
    if sort is not None and sort.upper() not in ("ASC", "DESC"):
        raise ObpError(errors.SORT_DIRECTION)
    from_text, to_text = get("from_date"), get("to_date")
    return PageQuery(
        limit=default_limit if limit_text is None else _integer(limit_text, 1, errors.LIMIT),
        offset=0 if offset_text is None else _integer(offset_text, 0, errors.OFFSET),
        from_date=None if from_text is None else parse_obp_date(from_text),
        to_date=None if to_text is None else parse_obp_date(to_text),
        # OBP leaves the order unset by default; its documentation promises newest first.
        descending=sort is None or sort.upper() == "DESC",
    )


def select(history: History, query: PageQuery) -> list[Transaction]:
    """One page in the requested order; the order is total: (posted, id)."""
    low = 0 if query.from_date is None else history.bisect(query.from_date)
    high = len(history) if query.to_date is None else history.bisect(query.to_date, right=True)
    limit = query.limit if query.limit is not None else max(0, high - low)
    if query.descending:
        stop = high - query.offset
        items = history.slice(max(low, stop - limit), stop) if stop > low else []
        items.reverse()
        return items
    start = low + query.offset
    return history.slice(start, min(high, start + limit)) if start < high else []
