"""Properties of the mapping: it never raises, never loses a record, never rounds."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connectors.base import TransactionRecord
from connectors.obp.mapping import ObpMapper
from ledger.money import CURRENCY_EXPONENTS

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
amount_texts = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
    st.sampled_from(["NaN", "Infinity", "-0", "1e309", "12,50", "", " 1", "0x10", "1_000"]),
    st.text(max_size=12),
)
currencies = st.sampled_from([*CURRENCY_EXPONENTS, "XYZ", "tjs", ""])
timestamps = st.one_of(
    st.none(),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=25),
)


@st.composite
def transactions(draw):
    return {
        "id": draw(st.one_of(st.uuids().map(str), json_scalars)),
        "details": draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "type": json_scalars,
                        "description": json_scalars,
                        "posted": timestamps,
                        "completed": timestamps,
                        "value": st.fixed_dictionaries(
                            {"currency": currencies, "amount": amount_texts}
                        )
                        | json_values,
                        "new_balance": st.none()
                        | st.fixed_dictionaries({"currency": currencies, "amount": amount_texts}),
                    }
                ),
                json_values,
            )
        ),
        "other_account": draw(json_values),
    }


@given(st.lists(st.one_of(transactions(), json_values), max_size=8))
def test_mapping_never_raises_and_accounts_for_every_item(raw):
    page = ObpMapper().map_transactions(raw, "acc")

    assert page.raw_count == len(raw)
    assert len(page.records) + len(page.issues) == len(raw)
    for issue in page.issues:
        assert issue.kind == "transaction"
        assert issue.reason


@given(
    st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False),
    st.sampled_from(["TJS", "USD", "RUB"]),
)
def test_amounts_are_exact(amount, currency):
    raw = {
        "id": "t-1",
        "details": {"posted": "2024-03-01T09:15:00Z", "completed": None,
                    "value": {"currency": currency, "amount": str(amount)}},
    }  # fmt: skip

    (record,) = ObpMapper().map_transactions([raw], "acc").records

    assert isinstance(record, TransactionRecord)
    assert record.amount.amount == Decimal(str(amount))
    assert record.amount.currency == currency
