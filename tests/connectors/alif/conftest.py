"""Alif-flavoured OBP JSON fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.alif import AlifMapper

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def load() -> Callable[[str], Any]:
    def _load(name: str) -> Any:
        return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)

    return _load


@pytest.fixture
def mapper() -> AlifMapper:
    return AlifMapper(today=lambda: date(2024, 3, 10))


@pytest.fixture
def transactions(load) -> list[Any]:
    return load("transactions.json")["transactions"]


@pytest.fixture
def transfers(load) -> list[Any]:
    return load("transaction_requests.json")["transaction_requests_with_charges"]
