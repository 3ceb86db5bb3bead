"""The Alif mapper and its Alif-flavoured OBP JSON (see `load` in tests/connectors)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.alif import AlifMapper


@pytest.fixture
def mapper() -> AlifMapper:
    return AlifMapper(today=lambda: date(2024, 3, 10))


@pytest.fixture
def transactions(load) -> list[Any]:
    return load("transactions.json")["transactions"]


@pytest.fixture
def transfers(load) -> list[Any]:
    return load("transaction_requests.json")["transaction_requests_with_charges"]
