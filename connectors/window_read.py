"""Reading one account's transactions completely, however the bank pages them.

Offset paging proves nothing by itself: a proxy may drop the paging headers, a bank may cap
the page below what was asked or ignore the sort direction or the date filter, rows that
share an instant may come in another order on every request, and rows inserted or removed
mid-read shift every later offset. So the account is read in date windows, and a window
counts as read only when its read proves itself (see docs/sync.md, "Completeness"):

- consecutive pages overlap by one position (page k+1 starts at the last position of page k)
  and the overlap holds the same id on both;
- the read ends only on a page that adds nothing past the overlap;
- apart from the overlaps every id is seen once.

A list that shifts or reorders under the read breaks one of these, and the window is read
again; a window that keeps failing is split in time, down to one instant; the rows of one
instant that the bank cannot page stably are read until two whole reads agree.

Pages are handed to `on_page` as they arrive (writing a real row early is harmless, and a
re-read writes nothing new); only the window's verdict, `WindowRead`, says what was proven.
A page is written while the next one is fetched and mapped (the database works in its own
thread or server meanwhile), one write at a time and in page order; every write a read
started has ended before its verdict, or its error, leaves the reader, and a write's error
comes first, as it would have had the read waited for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from connectors.base import (
    Connector,
    Page,
    SyncIssue,
    TransactionPageRecord,
    TransactionRecord,
)
from connectors.errors import UpstreamMalformed

log = logging.getLogger(__name__)

# OBP date filters carry milliseconds: the finest a window can be cut.
TICK = timedelta(milliseconds=1)
_FIRST_SPAN = timedelta(days=32)  # when a full first window says nothing of its reach
_LONGEST_SPAN = timedelta(days=3660)

PageSink = Callable[[Page[TransactionPageRecord]], Awaitable[None]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime | None  # inclusive; None: open end (whatever the bank's clock says)

    @property
    def instant(self) -> bool:
        return self.until is not None and self.until - self.since < TICK

    def holds(self, record: TransactionRecord) -> bool:
        """Whether the bank's filter could have listed `record` here: on its posting
        instant, or (OBP-API filters on `completed`) on its completion day."""
        at, day = record.booked_at, record.value_date
        if at is not None and at >= self.since and (self.until is None or at <= self.until):
            return True
        return (
            day is not None
            and day >= self.since.date()
            and (self.until is None or day <= self.until.date())
        )

    def halves(self, latest: datetime | None) -> tuple[Window, Window] | None:
        """Two windows covering this one, or None when it cannot be cut further. An open
        window is cut at the middle of what it has shown so far (`latest`)."""
        end = self.until if self.until is not None else latest
        if end is None or end - self.since < TICK:
            return None
        middle = self.since + (end - self.since) / 2
        middle -= timedelta(microseconds=middle.microsecond % 1000)  # whole milliseconds
        return Window(self.since, middle), Window(middle + TICK, self.until)


@dataclass(slots=True)
class WindowRead:
    """The verdict on one window: the ids the bank lists in it, and whether that is proven."""

    window: Window
    # Upstream ids of every listed transaction, quarantined ones included.
    listed: set[str] = field(default_factory=set)
    # False when the bank could not be read consistently; then issues say why.
    complete: bool = True
    issues: list[SyncIssue] = field(default_factory=list)


class _Inconsistent(Exception):
    """The list moved under the read: shifted, reordered, or shrank."""


class _TooLarge(Exception):
    """The window holds more rows than a window should (its re-read would cost too much)."""

    def __init__(self, latest: datetime | None) -> None:
        super().__init__("window too large")
        self.latest = latest  # the newest instant among the rows read before giving up


class _Cut(Exception):
    """A full window read oldest first: the part before its newest instant is proven."""

    def __init__(self, read: WindowRead) -> None:
        super().__init__("window cut")
        self.read = read


class _Unfiltered(Exception):
    """The bank served a row outside the window: it ignores the date filter."""


def _without(
    page: Page[TransactionPageRecord], overlap: list[str | None]
) -> Page[TransactionPageRecord]:
    """The page less the records of its overlap, which the page before already delivered
    (a write then meets only new rows: the cheap path of a first sync)."""
    if not overlap:
        return page
    known = set(overlap)
    kept = [
        r
        for r in page.records
        if (r.external_id if isinstance(r, TransactionRecord) else r.transaction_external_id)
        not in known
    ]
    return Page(kept, page.issues, page.offset, page.raw_count, page.positions, page.total)


@dataclass(slots=True)
class WindowReader:
    connector: Connector
    account: str
    on_page: PageSink
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Rows per window at most (ids are kept per window; a re-read stays cheap).
    max_rows: int = 10_000
    # Whole reads of a window before it is split.
    attempts: int = 3
    # Whole reads of one instant before its rows are given up as unreadable.
    instant_reads: int = 12
    requests: int = 0
    # Set once the bank showed it ignores date filters: then one window holds everything.
    unfiltered: bool = False
    # Write a page while the next one is fetched (else one after the other).
    write_while_fetching: bool = True
    _latest: datetime | None = None
    _writing: asyncio.Future[None] | None = None  # the page being written, at most one

    async def windows(self, since: datetime) -> AsyncIterator[WindowRead]:
        """Every window from `since` on, in time order, the last one open-ended.

        The first window is open: most reads (an incremental run) fit in it. A window that
        holds more than `max_rows` and came oldest first ends where the read got to (the
        rows before its newest instant are proven: nothing unseen can sort before them), and
        later windows take the span it covered. One that did not come oldest first is read
        again over three quarters of the time its first `max_rows` rows spanned."""
        span: timedelta | None = None  # None: open-ended
        start = since
        while True:
            closed = span is not None and start + span <= self.clock()
            window = Window(start, start + span - TICK if closed and span else None)
            try:
                reads = [read async for read in self._read(window, top=True)]
            except _Cut as cut:
                # Keep what was proven; go on from the newest instant with that span.
                yield cut.read
                assert cut.read.window.until is not None
                span = max(cut.read.window.until + TICK - start, TICK)
                start = cut.read.window.until + TICK
                continue
            except _TooLarge as full:
                reach = full.latest - start if full.latest and full.latest > start else None
                if reach is None or (span is not None and reach >= span):
                    reach = span / 4 if span is not None else _FIRST_SPAN
                span = max(reach * 3 / 4, TICK)
                continue
            except _Unfiltered:
                self.unfiltered = True
                span = None
                continue
            for read in reads:
                yield read
            if window.until is None:
                return
            if span is not None and sum(len(r.listed) for r in reads) * 2 < self.max_rows:
                span = min(span * 2, _LONGEST_SPAN)
            start = window.until + TICK

    async def _read(self, window: Window, *, top: bool = False) -> AsyncIterator[WindowRead]:
        """The window, split in time while its reads do not prove themselves. Only a top
        window may be cut short (`_Cut`): its halves are read whole."""
        unverified: set[str] | None = None
        self._latest = None
        for _ in range(self.attempts):
            try:
                listed, verified = await self._settled(self._attempt(window, may_cut=top))
            except _Inconsistent:
                log.info(
                    "transactions of %s moved under the read of %s..%s; reading it again",
                    self.account,
                    window.since.isoformat(),
                    window.until.isoformat() if window.until else "now",
                )
                continue
            except UpstreamMalformed as exc:
                # The client already retried the page: give the window up for this run.
                issue = SyncIssue("page", self.account, str(exc)[:500])
                yield WindowRead(window, complete=False, issues=[issue])
                return
            # A bank serving one row per page leaves no overlap to check a boundary with:
            # then two whole reads must agree instead.
            if verified or listed == unverified:
                yield WindowRead(window, listed)
                return
            unverified = listed
        halves = None if self.unfiltered else window.halves(self._latest)
        if halves is None:
            yield await self._settled(self._instant(window))
            return
        for half in halves:
            async for read in self._read(half):
                yield read

    async def _attempt(self, window: Window, *, may_cut: bool) -> tuple[set[str], bool]:
        """One whole read of `window`: the ids listed, and whether every page boundary was
        checked by an overlap. Raises _Inconsistent when the list moved under the read."""
        seen: dict[str, datetime | None] = {}  # id -> its instant, where a record says
        verified = True
        ascending = True  # every instant so far at or after the one before
        newest: datetime | None = None
        offset = 0
        tail: list[str | None] = []
        while True:
            page = await self._page(window, offset)
            head, new = page.positions[: len(tail)], page.positions[len(tail) :]
            if not new and len(head) == len(tail) and all(p in seen for p in head if p):
                # Nothing past the overlap: the list ends here (as one set, so one page of
                # reshuffled ties still ends).
                return set(seen), verified
            if head != tail:
                raise _Inconsistent  # shifted by an insert or a removal, or reordered
            instants = {
                r.external_id: r.booked_at for r in page.records if isinstance(r, TransactionRecord)
            }
            for position in new:
                if position is None:
                    continue
                if position in seen:
                    raise _Inconsistent  # reordered, or shifted by an insert
                at = instants.get(position)
                seen[position] = at
                if at is not None:
                    ascending = ascending and (newest is None or at >= newest)
                    newest = at if newest is None or at > newest else newest
            await self._deliver(_without(page, tail))
            keep = min(1, len(page.positions) - 1)
            verified = verified and keep > 0
            if len(seen) > self.max_rows and not (window.instant or self.unfiltered):
                if may_cut and ascending and verified and newest is not None:
                    until = newest - TICK
                    if until >= window.since:
                        proven = {i for i, at in seen.items() if at is None or at <= until}
                        raise _Cut(WindowRead(Window(window.since, until), proven))
                raise _TooLarge(self._latest)
            tail = page.positions[len(page.positions) - keep :] if keep else []
            offset += len(page.positions) - keep

    async def _instant(self, window: Window) -> WindowRead:
        """Rows sharing one instant that the bank orders differently on every request: read
        the whole instant again and again. While the list's length stays fixed (the count of
        positions agrees between reads), once the distinct ids seen equal that count every
        row has been seen. A change of length discards what was seen before it."""
        union: set[str] = set()
        previous: int | None = None
        for _ in range(self.instant_reads):
            positions = 0
            offset = 0
            ids: set[str] = set()
            while True:
                page = await self._page(window, offset)
                if not page.positions:
                    break
                positions += len(page.positions)
                ids.update(p for p in page.positions if p is not None)
                await self._deliver(page)
                offset += len(page.positions)
            if positions != previous:
                union = set()  # the list's length moved: what was seen may be gone
            union |= ids
            if positions == previous and len(union) == positions:
                return WindowRead(window, union)
            previous = positions
        reason = (
            f"the bank did not list the rows at {window.since.isoformat()} consistently "
            f"in {self.instant_reads} reads"
        )
        return WindowRead(window, union, complete=False, issues=[SyncIssue("window", None, reason)])

    async def _deliver(self, page: Page[TransactionPageRecord]) -> None:
        """Start writing `page` once the page before it is written; the read goes on."""
        await self._written()
        if not self.write_while_fetching:
            await self.on_page(page)
            return
        self._writing = asyncio.ensure_future(self.on_page(page))

    async def _written(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    async def _settled(self, read: Awaitable[_T]) -> _T:
        """`read`, then the end of every write it started. Whatever the read raised, the
        write under way ends first and its own error wins (it happened first); a
        cancelled read cancels the write too."""
        try:
            result = await read
        except asyncio.CancelledError:
            writing, self._writing = self._writing, None
            if writing is not None:
                writing.cancel()
                await asyncio.gather(writing, return_exceptions=True)
            raise
        except BaseException:
            await self._written()
            raise
        await self._written()
        return result

    async def _page(self, window: Window, offset: int) -> Page[TransactionPageRecord]:
        self.requests += 1
        page = await self.connector.transaction_page(
            self.account,
            since=window.since,
            until=window.until,
            offset=offset,
            limit=self.connector.page_size,
        )
        for record in page.records:
            if not isinstance(record, TransactionRecord):
                continue
            if not self.unfiltered and not window.holds(record):
                raise _Unfiltered
            if record.booked_at and (self._latest is None or record.booked_at > self._latest):
                self._latest = record.booked_at
        return page
