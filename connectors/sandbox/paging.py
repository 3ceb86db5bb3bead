"""OBP's paging and date filters (APIUtil.createQueriesByHttpParams) over a history."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import attrgetter
from random import Random
from typing import Protocol

from connectors.sandbox import errors
from connectors.sandbox.errors import ObpError
from connectors.sandbox.models import Transaction

DEFAULT_LIMIT = 50
_DAY = timedelta(days=1)
_POSTED = attrgetter("posted")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{4})$")


class History(Protocol):
    def __len__(self) -> int: ...

    def slice(self, start: int, stop: int) -> list[Transaction]: ...

    def bisect(self, moment: datetime, *, right: bool = False) -> int: ...

    def find(self, transaction_id: str) -> Transaction | None: ...


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


@dataclass(frozen=True, slots=True)
class Listing:
    """How the bank lists an account beyond what was asked (the paging faults)."""

    date_only: bool = False  # posted/completed served, and filtered, as midnight UTC
    hidden: frozenset[str] = frozenset()  # ids left out of the listing
    shuffle: Random | None = None  # set: rows tying on the served `posted` come shuffled


AS_ASKED = Listing()


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def as_served(transaction: Transaction, date_only: bool) -> Transaction:
    """The row as the bank sends it: a date-only bank has lost the time of day."""
    if not date_only:
        return transaction
    completed = transaction.completed
    return replace(
        transaction,
        posted=day_start(transaction.posted),
        completed=None if completed is None else day_start(completed),
    )


class _Served:
    """history[low:high] without the (sorted) history indexes in `gaps`."""

    def __init__(self, history: History, low: int, high: int, gaps: list[int]) -> None:
        self.history, self.low, self.high, self.gaps = history, low, high, gaps

    def __len__(self) -> int:
        return self.high - self.low - len(self.gaps)

    def position(self, index: int) -> int:
        """How many served rows come before history index `index`."""
        return index - self.low - bisect_left(self.gaps, index)

    def _index(self, position: int) -> int:
        index = self.low + position
        for gap in self.gaps:
            if gap > index:
                break
            index += 1
        return index

    def rows(self, start: int, stop: int) -> list[Transaction]:
        """Served rows [start, stop), ascending."""
        if start >= stop:
            return []
        first, last = self._index(start), self._index(stop - 1) + 1
        rows = self.history.slice(first, last)
        if not self.gaps:
            return rows
        gaps = set(self.gaps)
        return [t for i, t in enumerate(rows, first) if i not in gaps]


def _bounds(history: History, query: PageQuery, date_only: bool) -> tuple[int, int]:
    """The history indexes [low, high) the date filters keep."""
    since, until = query.from_date, query.to_date
    if date_only:
        # A row's served posted is its day's midnight; that is what the filters compare.
        if since is not None and since != day_start(since):
            since = day_start(since) + _DAY
        low = 0 if since is None else history.bisect(since)
        high = len(history) if until is None else history.bisect(day_start(until) + _DAY)
        return low, high
    low = 0 if since is None else history.bisect(since)
    high = len(history) if until is None else history.bisect(until, right=True)
    return low, high


def _hidden_indexes(history: History, hidden: frozenset[str], low: int, high: int) -> list[int]:
    # Posting times inside an account are distinct, so a row's time gives its index.
    found = (history.find(i) for i in hidden)
    indexes = (history.bisect(t.posted) for t in found if t is not None)
    return sorted(i for i in indexes if low <= i < high)


def _group_key(date_only: bool) -> Callable[[Transaction], datetime]:
    return (lambda t: day_start(t.posted)) if date_only else _POSTED


def _shuffled(served: _Served, start: int, stop: int, listing: Listing) -> list[Transaction]:
    """Served rows [start, stop) after shuffling every tie group (whole groups, even
    those the page only touches, so a page is a cut of one random order of the list)."""
    assert listing.shuffle is not None
    history = served.history
    first, last = served.rows(start, start + 1)[0], served.rows(stop - 1, stop)[0]
    if listing.date_only:
        low = history.bisect(day_start(first.posted))
        high = history.bisect(day_start(last.posted) + _DAY)
    else:
        low, high = history.bisect(first.posted), history.bisect(last.posted, right=True)
    group_start = served.position(max(low, served.low))
    group_stop = served.position(min(high, served.high))
    rows: list[Transaction] = []
    key = _group_key(listing.date_only)
    for _, group in groupby(served.rows(group_start, group_stop), key=key):
        tied = list(group)
        listing.shuffle.shuffle(tied)
        rows.extend(tied)
    return rows[start - group_start : stop - group_start]


def select(history: History, query: PageQuery, listing: Listing = AS_ASKED) -> list[Transaction]:
    """One page in the requested order, shaped by `listing`. Without faults the order is
    total, (posted, id), and a page costs O(page + block)."""
    low, high = _bounds(history, query, listing.date_only)
    served = _Served(history, low, high, _hidden_indexes(history, listing.hidden, low, high))
    count = len(served)
    limit = count if query.limit is None else query.limit
    if query.descending:
        start, stop = max(0, count - query.offset - limit), max(0, count - query.offset)
    else:
        start, stop = min(count, query.offset), min(count, query.offset + limit)
    if start >= stop:
        return []
    if listing.shuffle is None:
        items = served.rows(start, stop)
    else:
        items = _shuffled(served, start, stop, listing)
    if query.descending:
        items.reverse()
    return [as_served(t, listing.date_only) for t in items]
