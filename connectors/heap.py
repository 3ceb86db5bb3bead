"""Garbage-collector settings for a process that syncs."""

from __future__ import annotations

import gc

# Collect the youngest generation after this many new container objects, not 700: a sync
# page allocates tens of thousands that die with the page, and collecting every 700 of
# them cost ~10 % of the ledger write stage.
YOUNG_THRESHOLD = 10_000


def tune_for_sync() -> None:
    """Put everything alive now (modules, table metadata, compiled statements) out of the
    collector's reach, and collect the young generation less often.

    A sync allocates many objects that live for one page, so full collections ran every
    few pages and each rescanned the ~100k objects of a started process (about 100 ms a
    time: a quarter of a 100k-transaction sync went to the collector).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
