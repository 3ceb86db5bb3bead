"""Reading one account's transactions completely, however the bank pages them.

Offset paging proves nothing by itself: a proxy may drop the paging headers, a bank may cap
the page below what was asked or ignore the sort direction, rows that share an instant may
come in another order on every request, and rows inserted or removed mid-read shift every
later offset. So the account is read in date windows, and a window counts as read only when
its read proves itself (see docs/sync.md, "Completeness"):

- consecutive pages overlap by one position (page k+1 starts at the last position of page k)
  and the overlap holds the same id on both;
- the read ends only on a page that adds nothing past the overlap;
- apart from the overlaps every id is seen once.

A list that shifts or reorders under the read breaks one of these, and the window is read
again; a window that keeps failing is split in time, down to one instant; the rows of one
instant that the bank cannot page stably are read until two whole reads agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from connectors.base import (
    Connector,
    Page,
    ServicePaymentRecord,
    SyncIssue,
    TransactionPageRecord,
    TransactionRecord,
)
from connectors.errors import UpstreamMalformed

# OBP date filters carry milliseconds: the finest a window can be cut.
TICK = timedelta(milliseconds=1)
_FIRST_SPAN = timedelta(days=32)  # when the first full window says nothing of its reach
_LONGEST_SPAN = timedelta(days=3660)


@dataclass(frozen=True, slots=True)
class Window:
    since: datetime
    until: datetime | None  # inclusive; None: open end (whatever the bank's clock says)

    @property
    def instant(self) -> bool:
        return self.until is not None and self.until - self.since < TICK

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
    """A window read completely: everything the bank lists in it, each record once."""

    window: Window
    records: list[TransactionPageRecord] = field(default_factory=list)
    issues: list[SyncIssue] = field(default_factory=list)
    # Upstream ids of every listed transaction, quarantined ones included.
    listed: set[str] = field(default_factory=set)
    # False when the bank could not be read consistently; then issues say why.
    complete: bool = True


class _Collected:
    """Records of one read keyed by identity, so an overlap or a re-read stores each once."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], TransactionPageRecord] = {}
        self.issues: dict[tuple[str, str | None, str], SyncIssue] = {}
        self.latest: datetime | None = None

    def add(self, page: Page[TransactionPageRecord]) -> None:
        for record in page.records:
            if isinstance(record, TransactionRecord):
                self.records["tx", record.external_id] = record
                if record.booked_at and (self.latest is None or record.booked_at > self.latest):
                    self.latest = record.booked_at
            elif isinstance(record, ServicePaymentRecord):
                self.records["payment", record.external_id] = record
        for issue in page.issues:
            self.issues[issue.kind, issue.external_id, issue.reason + issue.excerpt] = issue

    def result(self, window: Window, listed: set[str]) -> WindowRead:
        return WindowRead(window, list(self.records.values()), list(self.issues.values()), listed)


class _Inconsistent(Exception):
    """The list moved under the read: shifted, reordered, or shrank."""


class _TooLarge(Exception):
    """The window holds more rows than one window may buffer."""

    def __init__(self, latest: datetime | None) -> None:
        super().__init__("window too large")
        self.latest = latest  # the newest instant among the rows read before giving up


@dataclass(slots=True)
class WindowReader:
    connector: Connector
    account: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Rows buffered per window at most: memory stays flat, a re-read stays cheap.
    max_rows: int = 10_000
    # Whole reads of a window before it is split.
    attempts: int = 3
    # Whole reads of one instant before its rows are given up as unreadable.
    instant_reads: int = 12
    requests: int = 0

    async def windows(self, since: datetime) -> AsyncIterator[WindowRead]:
        """Every window from `since` on, in time order, the last one open-ended.

        The first window is open: most reads (an incremental run) fit in it. A window that
        holds more than `max_rows` is cut to about three quarters of the time its first
        `max_rows` rows spanned, and later windows keep that span while they stay full."""
        span: timedelta | None = None  # None: open-ended
        start = since
        while True:
            closed = span is not None and start + span <= self.clock()
            window = Window(start, start + span - TICK if closed and span else None)
            try:
                reads = [read async for read in self._read(window)]
            except _TooLarge as full:
                reach = full.latest - start if full.latest and full.latest > start else None
                if reach is None or (span is not None and reach >= span):
                    reach = span / 4 if span is not None else _FIRST_SPAN
                span = max(reach * 3 / 4, TICK)
                continue
            for read in reads:
                yield read
            if window.until is None:
                return
            if span is not None and sum(len(r.listed) for r in reads) * 2 < self.max_rows:
                span = min(span * 2, _LONGEST_SPAN)
            start = window.until + TICK

    async def _read(self, window: Window) -> AsyncIterator[WindowRead]:
        """The window, split in time while its reads do not prove themselves."""
        latest: datetime | None = None
        unverified: set[str] | None = None
        for _ in range(self.attempts):
            collected = _Collected()
            try:
                listed, verified = await self._attempt(window, collected, overlap=1)
            except _Inconsistent:
                latest = max(filter(None, (latest, collected.latest)), default=None)
                continue
            except UpstreamMalformed as exc:
                # The client already retried the page: give the window up for this run.
                issue = SyncIssue("page", self.account, str(exc)[:500])
                yield WindowRead(window, issues=[issue], complete=False)
                return
            # A bank serving one row per page leaves no overlap to check a boundary with:
            # then two whole reads must agree instead.
            if verified or listed == unverified:
                yield collected.result(window, listed)
                return
            unverified = listed
        halves = window.halves(latest)
        if halves is None:
            yield await self._instant(window)
            return
        for half in halves:
            async for read in self._read(half):
                yield read

    async def _attempt(
        self, window: Window, collected: _Collected, *, overlap: int
    ) -> tuple[set[str], bool]:
        """One whole read of `window`: the ids listed, and whether every page boundary was
        checked by an overlap. Raises _Inconsistent when the list moved under the read."""
        seen: set[str] = set()
        verified = True
        offset = 0
        tail: list[str | None] = []
        while True:
            page = await self._page(window, offset)
            head, new = page.positions[: len(tail)], page.positions[len(tail) :]
            if not new and len(head) == len(tail) and all(p in seen for p in head if p):
                # Nothing past the overlap: the list ends here (as one set, so one page of
                # reshuffled ties still ends).
                return seen, verified
            if head != tail:
                raise _Inconsistent  # shifted by an insert or a removal, or reordered
            for position in new:
                if position is None:
                    continue
                if position in seen:
                    raise _Inconsistent  # reordered, or shifted by an insert
                seen.add(position)
            collected.add(page)
            if len(seen) > self.max_rows and not window.instant:
                raise _TooLarge(collected.latest)
            keep = min(overlap, len(page.positions) - 1)
            verified = verified and keep > 0
            tail = page.positions[len(page.positions) - keep :] if keep else []
            offset += len(page.positions) - keep

    async def _instant(self, window: Window) -> WindowRead:
        """Rows sharing one instant that the bank orders differently on every request: read
        the whole instant again and again. While the list's length stays fixed (the count of
        positions agrees between reads), once the distinct ids seen equal that count every
        row has been seen. A change of length discards what was seen before it."""
        collected = _Collected()
        union: set[str] = set()
        previous: int | None = None
        for _ in range(self.instant_reads):
            positions = 0
            offset = 0
            read = _Collected()
            ids: set[str] = set()
            while True:
                page = await self._page(window, offset)
                if not page.positions:
                    break
                positions += len(page.positions)
                ids.update(p for p in page.positions if p is not None)
                read.add(page)
                offset += len(page.positions)
            if positions != previous:
                # The list's length moved: what earlier reads saw may be gone; start over.
                collected, union = _Collected(), set()
            collected.records.update(read.records)
            collected.issues.update(read.issues)
            union |= ids
            if positions == previous and len(union) == positions:
                return collected.result(window, union)
            previous = positions
        read = collected.result(window, union)
        read.complete = False
        read.issues.append(
            SyncIssue(
                "window",
                self.account,
                f"the bank did not list the rows at {window.since.isoformat()} consistently "
                f"in {self.instant_reads} reads",
            )
        )
        return read

    async def _page(self, window: Window, offset: int) -> Page[TransactionPageRecord]:
        self.requests += 1
        return await self.connector.transaction_page(
            self.account,
            since=window.since,
            until=window.until,
            offset=offset,
            limit=self.connector.page_size,
        )
