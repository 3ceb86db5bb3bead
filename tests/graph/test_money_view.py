"""graph's Money is a view of the ledger's: the amount as the ledger formats it."""

from __future__ import annotations

import pytest

from graph.core.scalars import Money
from ledger import money


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (-12_050, "TJS", "-120.50"),
        (0, "TJS", "0.00"),
        (-0, "KWD", "0.000"),
        (-5, "KWD", "-0.005"),
        (1_500, "JPY", "1500"),
        (-(2**63), "USD", "-92233720368547758.08"),
    ],
)
def test_amount_is_the_ledgers_exact_string(minor: int, currency: str, shown: str) -> None:
    view = Money.of(money.Money(minor, currency))
    assert (view.amount, view.currency) == (shown, currency)


def test_maybe_passes_none_through() -> None:
    assert Money.maybe(None) is None
    assert Money.maybe(money.Money(1, "TJS")) == Money.of(money.Money(1, "TJS"))
