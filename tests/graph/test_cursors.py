"""Cursors keep their bytes: clients hold them across releases.

The format is the URL-safe base64 (padded) of `tag|key|...|id`, dates and timestamps in ISO
8601; `reference_encode` is that definition, spelled with the standard library's base64."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.core.errors import BadUserInput
from graph.core.pagination import Ordering

TX = Ordering("tx", ("booking_date", "id"), descending=True)
PAY = Ordering("pay", ("paid_at", "id"), descending=True)
ACC = Ordering("acc", ("id",), descending=False)

ids = st.integers(min_value=0, max_value=2**63 - 1)
instants = st.datetimes(
    min_value=datetime(1970, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-3))]),
)


def reference_encode(tag: str, *values: object) -> str:
    text = "|".join([tag, *(v.isoformat() if isinstance(v, date) else str(v) for v in values)])
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_issued_before_is_the_same_string():
    row = SimpleNamespace(booking_date=date(2025, 3, 14), id=987654)

    assert TX.encode(row) == "dHh8MjAyNS0wMy0xNHw5ODc2NTQ="
    assert TX.decode("dHh8MjAyNS0wMy0xNHw5ODc2NTQ=") == (date(2025, 3, 14), 987654)


@given(st.dates(), ids)
def test_transaction_cursors_match_the_format_and_read_back(day: date, pk: int):
    cursor = TX.encode(SimpleNamespace(booking_date=day, id=pk))

    assert cursor == reference_encode("tx", day, pk)
    assert TX.decode(cursor) == (day, pk)


@given(instants, ids)
def test_timestamp_cursors_match_the_format_and_read_back(at: datetime, pk: int):
    cursor = PAY.encode(SimpleNamespace(paid_at=at, id=pk))

    assert cursor == reference_encode("pay", at, pk)
    assert PAY.decode(cursor) == (at, pk)


@given(ids)
def test_id_cursors_match_the_format(pk: int):
    assert ACC.encode(SimpleNamespace(id=pk)) == reference_encode("acc", pk)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-a-cursor",
        "dHh8MjAyNS0wMy0xNHw5ODc2NTQ",  # padding cut off
        "ĉursor",  # not ASCII
        base64.urlsafe_b64encode(b"tx|2025-03-14|98|7").decode(),
        base64.urlsafe_b64encode(b"acc|1").decode(),  # another list's
        base64.urlsafe_b64encode(b"tx|2025-03-14|-1").decode(),
        base64.urlsafe_b64encode("tx|2025-03-14|١٢".encode()).decode(),  # non-ASCII digits
        base64.b64encode(b"tx|\xff|1").decode(),
    ],
)
def test_anything_else_is_a_malformed_cursor(cursor: str):
    with pytest.raises(BadUserInput, match=r"^Malformed cursor: "):
        TX.decode(cursor)
