"""Plain OBP transactions -> TransactionRecord: exact money, dates, status, type, quarantine."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from connectors.base import TransactionRecord
from connectors.obp.mapping import ObpMapper
from connectors.obp.vocabulary import transaction_type
from ledger.money import Money

ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"


@pytest.fixture
def raw(load):
    return load("transactions.json")["transactions"]


def test_a_page_maps_every_transaction_exactly(raw):
    page = ObpMapper().map_transactions(raw, ACC, offset=200)

    assert page.issues == []
    assert page.offset == 200
    assert page.raw_count == 3
    groceries, remittance, zero = page.records
    assert groceries == TransactionRecord(
        external_id="4c1f0a2e-0001-4e5b-9a7c-000000000001",
        account_external_id=ACC,
        status="BOOKED",
        booking_date=date(2024, 3, 1),
        value_date=date(2024, 3, 2),
        booked_at=datetime(2024, 3, 1, 9, 15, tzinfo=UTC),
        amount=Money(-12050, "TJS"),
        balance_after=Money(152075, "TJS"),
        type="CARD_PAYMENT",
        description="Groceries, Shohmansur bazaar",
        counterparty_name="Shohmansur Market",
        counterparty_account="••••5678",
        counterparty_bank="ALIFTJ22",
    )
    assert remittance.status == "PENDING"
    assert remittance.value_date is None
    assert remittance.balance_after is None
    assert remittance.amount == Money(300000, "TJS")
    assert remittance.type == "TRANSFER_IN"
    assert remittance.counterparty_account == "••••4312"
    assert remittance.counterparty_bank is None
    assert zero.type == "OTHER"
    assert zero.counterparty_name is None
    assert zero.description is None


def test_plain_mode_leaves_alif_fields_empty(raw):
    for record in ObpMapper().map_transactions(raw, ACC).records:
        assert record.category is None
        assert record.mcc is None
        assert record.original_amount is None
        assert record.replaces_external_id is None


def _with(raw, index, path, value):
    bad = copy.deepcopy(raw)
    target = bad[index]
    *parents, last = path
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return bad


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("details", "value", "amount"), "NaN", "not a decimal amount: 'NaN'"),
        (("details", "value", "amount"), "1e309", "amount out of range"),
        (("details", "value", "amount"), "12,50", "not a decimal amount: '12,50'"),
        (("details", "value", "amount"), " 12.50", "not a decimal amount"),
        (("details", "value", "amount"), "-120.505", "more than 2 decimal places for TJS"),
        (("details", "value", "amount"), -120.5, "details.value.amount is not a decimal string"),
        (("details", "value", "amount"), None, "details.value.amount is not a decimal string"),
        (("details", "value", "currency"), "XYZ", "unknown currency code 'XYZ'"),
        (("details", "value", "currency"), "tjs", "unknown currency code 'tjs'"),
        (("details", "value"), None, "details.value is not an object"),
        (("details", "new_balance", "amount"), "Infinity", "details.new_balance"),
        (("details", "posted"), "01/03/2024", "details.posted is not an ISO-8601 timestamp"),
        (("details", "completed"), "yesterday", "details.completed is not an ISO-8601"),
        (("details", "posted"), "0001-01-01T00:00:00+05:00", "details.posted is not an ISO"),
        (("details",), "oops", "details is not an object"),
        (("id",), KeyError, "id is missing"),
        (("id",), "", "id is missing"),
        (("id",), 42, "id is not a string"),
        (("other_account", "holder"), "Shohmansur", "other_account.holder is not an object"),
    ],
)
def test_a_bad_transaction_is_quarantined_and_its_siblings_survive(raw, path, value, reason):
    page = ObpMapper().map_transactions(_with(raw, 0, path, value), ACC)

    assert [r.external_id for r in page.records] == [
        "4c1f0a2e-0002-4e5b-9a7c-000000000002",
        "4c1f0a2e-0003-4e5b-9a7c-000000000003",
    ]
    (issue,) = page.issues
    assert issue.kind == "transaction"
    assert reason in issue.reason
    expected_id = raw[0]["id"] if path != ("id",) else None
    assert issue.external_id == expected_id
    assert issue.excerpt.startswith("{")


def test_a_non_object_item_is_quarantined(raw):
    page = ObpMapper().map_transactions(["nope", *raw], ACC)

    assert len(page.records) == 3
    (issue,) = page.issues
    assert issue.reason == "transaction is not an object"
    assert issue.external_id is None
    assert page.raw_count == 4


def test_amounts_keep_every_digit():
    raw = {
        "id": "t",
        "details": {
            "posted": "2024-03-01T00:00:00Z",
            "completed": None,
            "value": {"currency": "TJS", "amount": "-92233720368547758.07"},
            "new_balance": {"currency": "JPY", "amount": "1500"},
        },
    }

    (record,) = ObpMapper().map_transactions([raw], ACC).records

    assert record.amount == Money(-9223372036854775807, "TJS")
    assert record.balance_after == Money(1500, "JPY")


def test_timestamps_with_offsets_become_utc():
    raw = {
        "id": "t",
        "details": {
            "posted": "2024-03-01T02:30:00+05:00",
            "completed": "2024-03-01",
            "value": {"currency": "TJS", "amount": "1"},
        },
    }

    (record,) = ObpMapper().map_transactions([raw], ACC).records

    assert record.booked_at == datetime(2024, 2, 29, 21, 30, tzinfo=UTC)
    assert record.booking_date == date(2024, 2, 29)
    assert record.value_date == date(2024, 3, 1)


@pytest.mark.parametrize(
    ("obp_type", "amount", "expected"),
    [
        ("CARD_PAYMENT", "-1", "CARD_PAYMENT"),
        ("salary", "100", "SALARY"),
        ("CASH-WITHDRAWAL", "-1", "CASH_WITHDRAWAL"),
        ("SANDBOX_TAN", "-5", "TRANSFER_OUT"),
        ("COUNTERPARTY", "5", "TRANSFER_IN"),
        ("SEPA", "0", "OTHER"),
        ("SOMETHING_NEW", "-5", "OTHER"),
        (None, "-5", "OTHER"),
    ],
)
def test_transaction_type_table(obp_type, amount, expected):
    assert transaction_type(obp_type, Money.parse(amount, "TJS")) == expected
