"""A serving process's set-up (graph/server/runtime.py): the collector's tuning."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from graph.server.runtime import YOUNG_GENERATION_THRESHOLD, tune_collector


@pytest.fixture
def collector() -> Iterator[None]:
    """The test process's collector as it was, afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_startup_objects_are_frozen_and_young_ones_collected_less_often():
    gc.unfreeze()
    _, middle, oldest = gc.get_threshold()

    tune_collector()

    assert gc.get_freeze_count() > 10_000  # the modules and tables imported so far
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, middle, oldest)
    # Garbage in cycles is still collected.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
