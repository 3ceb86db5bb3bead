"""Reading PostgreSQL's EXPLAIN (ANALYZE, FORMAT JSON) plans in tests."""

from __future__ import annotations

from typing import Any


def rows_read(plan: dict[str, Any], relation: str) -> int:
    """Rows the plan's scans of `relation` produced over all their loops (PostgreSQL
    reports a loop's rows as the mean, rounded: a probe finding nothing counts as one)."""
    own = 0
    if plan.get("Relation Name") == relation:
        own = round(float(plan["Actual Rows"]) * int(plan["Actual Loops"]))
    return own + sum(rows_read(child, relation) for child in plan.get("Plans", []))
