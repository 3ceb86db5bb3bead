"""Alif attributes of any shape never crash a page and never lose a transaction."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from connectors.alif import AlifMapper
from connectors.alif.attributes import ATTRIBUTE_NAMES
from connectors.base import ServicePaymentRecord, TransactionRecord

values = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["true", "false", "BOOKED", "PENDING", "TOP_UP", "mobile", "Tcell",
                     "10.5", "-49.99", "USD", "RU", "5942", "0", "NaN", "1e309"]),
)  # fmt: skip
attributes = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(sorted(ATTRIBUTE_NAMES)) | st.text(max_size=8),
                "value": values,
            }
        ),
        values,
    ),
    max_size=8,
)


@given(st.lists(attributes, min_size=1, max_size=5))
def test_any_attributes_map_or_quarantine_each_transaction(attribute_lists):
    raw = [
        {
            "id": f"t-{i}",
            "details": {
                "posted": "2024-03-01T10:00:00Z",
                "completed": None,
                "value": {"currency": "TJS", "amount": "-10.00"},
            },
            "transaction_attributes": attrs,
        }
        for i, attrs in enumerate(attribute_lists)
    ]

    page = AlifMapper().map_transactions(raw, "acc")

    transactions = [r for r in page.records if isinstance(r, TransactionRecord)]
    payments = [r for r in page.records if isinstance(r, ServicePaymentRecord)]
    assert len(transactions) + len(page.issues) == len(raw)
    assert {p.transaction_external_id for p in payments} <= {t.external_id for t in transactions}
    for payment in payments:
        assert payment.amount.minor == 1000
