"""How a serving process is set up around the app: `serve` runs `served_app` in each worker.

The garbage collector is tuned once the app is built. What startup made (the schema, the
plans' generated code, SQLAlchemy's and Strawberry's tables) lives as long as the process,
so it is frozen out of the collector's scans; and the youngest generation is collected every
10,000 allocations instead of every 700. A 100-row page allocates thousands of short-lived
objects that reference counting frees anyway; at 700 the collector ran a dozen times a page,
scanning what is alive each time (docs/performance.md).
"""

from __future__ import annotations

import gc

from starlette.applications import Starlette

from graph.server.app import create_app

YOUNG_GENERATION_THRESHOLD = 10_000


def tune_collector() -> None:
    """Freeze what exists now, and collect the youngest generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


def served_app() -> Starlette:
    """The app as a worker of `alif-graph serve` runs it."""
    app = create_app()
    tune_collector()
    return app
