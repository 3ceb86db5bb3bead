"""Fixtures shared by the connector tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest


@pytest.fixture
def load(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Reads a JSON file from the `fixtures` folder beside the test, numbers as Decimal."""
    fixtures = request.path.parent / "fixtures"

    def _load(name: str) -> Any:
        return json.loads((fixtures / name).read_text(), parse_float=Decimal)

    return _load
