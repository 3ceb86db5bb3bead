"""The window reader writes a page while it fetches the next: one write at a time, in page
order, every write of a read ended before its verdict or its error leaves the reader, and a
write's own error first (docs/sync.md, "Completeness")."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Page, TransactionPageRecord
from connectors.errors import UpstreamMalformed, UpstreamUnavailable
from connectors.window_read import WindowReader

from .test_window_read import NOW, T0, HostileBank, _rows

START = T0 - timedelta(days=400)


@dataclass
class Sink:
    """Records what is written and when; a write may wait (`pauses` yields) or fail."""

    pauses: list[int] = field(default_factory=list)
    fail_at: int | None = None
    block_at: int | None = None
    written: list[list[str]] = field(default_factory=list)
    started: int = 0
    active: int = 0
    most_active: int = 0
    cancelled: list[int] = field(default_factory=list)

    async def __call__(self, page: Page[TransactionPageRecord]) -> None:
        index = self.started
        self.started += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            for _ in range(self.pauses[index % len(self.pauses)] if self.pauses else 0):
                await asyncio.sleep(0)
            if index == self.block_at:
                await asyncio.Event().wait()
            if index == self.fail_at:
                raise RuntimeError(f"write {index} refused")
            self.written.append([r.external_id for r in page.records])  # type: ignore[union-attr]
        except asyncio.CancelledError:
            self.cancelled.append(index)
            raise
        finally:
            self.active -= 1


@dataclass
class FailingBank(HostileBank):
    """Fails the fetch of page `fail_at` with `error`; counts fetches under way."""

    fail_at: int | None = None
    error: Exception | None = None
    sink: Sink | None = None
    fetched_while_writing: int = 0

    async def transaction_page(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0)  # as a request would: the write under way runs meanwhile
        if self.sink is not None and self.sink.active:
            self.fetched_while_writing += 1
        if self.served_pages == self.fail_at and self.error is not None:
            self.served_pages += 1
            raise self.error
        return await super().transaction_page(*args, **kwargs)


async def _read(bank: HostileBank, sink: Sink, **options: object) -> list:
    reader = WindowReader(bank, "acc", sink, clock=lambda: NOW, **options)  # type: ignore[arg-type]
    verdicts = []
    async for read in reader.windows(START):
        # A verdict comes only once every write of its window has ended.
        assert sink.active == 0 and len(sink.written) == sink.started
        verdicts.append(read)
    return verdicts


@pytest.mark.parametrize("pauses", [[0], [1], [5], [0, 3, 1]])
async def test_the_next_page_is_fetched_while_a_page_is_written(pauses: list[int]) -> None:
    sink = Sink(pauses=pauses)
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    verdicts = await _read(bank, sink, max_rows=10_000)
    assert all(v.complete for v in verdicts)
    assert sink.most_active == 1  # one write at a time
    # Writes in page order: each page's rows follow the last one's (the overlap dropped).
    written = [ext for page in sink.written for ext in page]
    assert written == sorted(bank.rows)
    if min(pauses) > 0:  # a write that yields is under way while the next page comes
        assert bank.fetched_while_writing >= len(sink.written) - 2


async def test_switched_off_each_page_is_written_before_the_next_is_fetched() -> None:
    sink = Sink(pauses=[5])
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    verdicts = await _read(bank, sink, max_rows=10_000, write_while_fetching=False)
    assert all(v.complete for v in verdicts)
    assert [ext for page in sink.written for ext in page] == sorted(bank.rows)
    assert bank.fetched_while_writing == 0


@pytest.mark.parametrize("failing_page", [0, 1, 5])
@pytest.mark.parametrize(
    "fetch_error",
    [None, UpstreamUnavailable("bank down"), UpstreamMalformed("bad page")],
    ids=["no-fetch-error", "unavailable", "malformed"],
)
async def test_a_refused_write_stops_the_read_and_its_error_comes_first(
    failing_page: int, fetch_error: Exception | None
) -> None:
    """Whatever the fetch of the next page did meanwhile (nothing, an error that ends the
    sync, one that gives the window up), the refused write's error is what the read
    raises, and nothing after that page is written."""
    sink = Sink(pauses=[3], fail_at=failing_page)
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    bank.fail_at, bank.error = failing_page + 1, fetch_error
    with pytest.raises(RuntimeError, match=f"write {failing_page} refused"):
        await _read(bank, sink, max_rows=10_000)
    assert sink.started == failing_page + 1
    assert len(sink.written) == failing_page
    assert sink.active == 0


@pytest.mark.parametrize("failing_fetch", [1, 2, 7])
async def test_a_fetch_error_leaves_the_reader_after_the_write_under_way(
    failing_fetch: int,
) -> None:
    sink = Sink(pauses=[20])
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    bank.fail_at, bank.error = failing_fetch, UpstreamUnavailable("bank down")
    with pytest.raises(UpstreamUnavailable):
        await _read(bank, sink, max_rows=10_000)
    assert sink.active == 0
    assert len(sink.written) == sink.started == failing_fetch


async def test_a_malformed_page_gives_the_window_up_after_its_writes() -> None:
    sink = Sink(pauses=[20])
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    bank.fail_at, bank.error = 4, UpstreamMalformed("bad page")
    verdicts = await _read(bank, sink, max_rows=10_000)
    assert not verdicts[0].complete
    assert len(sink.written) == 4


async def test_cancelling_the_read_cancels_the_write_under_way() -> None:
    sink = Sink(block_at=3)
    bank = FailingBank(_rows(200), page_size=10, sink=sink)
    reading = asyncio.ensure_future(_read(bank, sink, max_rows=10_000))
    for _ in range(100):  # until the fourth write is under way, blocked
        await asyncio.sleep(0)
    assert sink.started == 4 and sink.active == 1
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    assert sink.cancelled == [3]
    assert sink.active == 0
    assert len(sink.written) == 3


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 120),
    ties=st.integers(1, 4),
    page=st.integers(1, 12),
    pauses=st.lists(st.integers(0, 4), min_size=1, max_size=5),
    descending=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_any_interleaving_of_writes_and_fetches_reads_the_bank_whole(
    n: int, ties: int, page: int, pauses: list[int], descending: bool, seed: int
) -> None:
    sink = Sink(pauses=pauses)
    bank = FailingBank(
        _rows(n, ties=ties), page_size=page, descending=descending, rng=random.Random(seed)
    )
    verdicts = asyncio.run(_read(bank, sink, instant_reads=400, max_rows=max(20, 3 * page)))
    listed = set().union(*(v.listed for v in verdicts))
    assert listed == set(bank.rows)
    assert {ext for page in sink.written for ext in page} >= listed
    assert sink.most_active <= 1
