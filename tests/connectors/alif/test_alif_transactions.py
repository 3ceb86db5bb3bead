"""Alif transaction attributes on top of the plain OBP mapping."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connectors.alif.attributes import ATTRIBUTE_NAMES, CATEGORY_KEYS
from connectors.base import ServicePaymentRecord, TransactionRecord
from connectors.obp.mapping import ObpMapper
from ledger.money import Money

ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"


def test_attributes_enrich_the_transaction_and_yield_a_service_payment(mapper, transactions):
    page = mapper.map_transactions(transactions[:1], ACC, offset=0)

    assert page.issues == []
    assert page.raw_count == 1
    tx, payment = page.records
    assert tx == TransactionRecord(
        external_id="a1f0c3d2-0001-4b7e-9c1d-100000000001",
        account_external_id=ACC,
        status="BOOKED",
        booking_date=date(2024, 3, 2),
        value_date=date(2024, 3, 2),
        booked_at=datetime(2024, 3, 2, 8, 0, tzinfo=UTC),
        amount=Money(-5000, "TJS"),
        balance_after=Money(147075, "TJS"),
        type="TOP_UP",
        description="Tcell top-up +992 92 *** 4567",
        counterparty_name="Tcell",
        category="mobile",
        card_external_id="card-uuid-1",
        service_payment_external_id="sp-9001",
    )
    assert payment == ServicePaymentRecord(
        external_id="sp-9001",
        account_external_id=ACC,
        transaction_external_id=tx.external_id,
        provider="Tcell",
        category="mobile",
        service_account_masked="••••4567",
        amount=Money(5000, "TJS"),
        paid_at=datetime(2024, 3, 2, 8, 0, tzinfo=UTC),
        autopay=True,
    )


def test_card_payment_abroad_keeps_original_amount_and_rate(mapper, transactions):
    (tx,) = mapper.map_transactions(transactions[1:2], ACC).records

    assert tx.status == "PENDING"
    assert tx.type == "CARD_PAYMENT"
    assert tx.mcc == "5942"
    assert tx.merchant_name == "Amazon"
    assert tx.category == "shopping"
    assert tx.original_amount == Money(-4999, "USD")
    assert tx.fx_rate == Decimal("10.9692")
    assert tx.counterparty_country == "US"
    assert tx.service_payment_external_id is None


def test_remittance_links_transfer_and_replaced_pending(mapper, transactions):
    (tx,) = mapper.map_transactions(transactions[2:3], ACC).records

    assert tx.type == "INTERNATIONAL_TRANSFER"
    assert tx.category == "remittance_in"
    assert tx.transfer_external_id == "7e1d6f2a-bbbb-4bbb-8ccc-000000000010"
    assert tx.replaces_external_id == "a1f0c3d2-0000-4b7e-9c1d-100000000000"
    assert tx.original_amount == Money(2500000, "RUB")
    assert tx.counterparty_account == "••••4312"
    assert tx.counterparty_bank == "SABRRUMM"


def test_the_catalogue_fills_category_type_and_payment_id(mapper, transactions):
    tx, payment = mapper.map_transactions(transactions[3:4], ACC).records

    assert tx.category == "electricity"
    assert tx.type == "SERVICE_PAYMENT"
    assert tx.service_payment_external_id == "a1f0c3d2-0004-4b7e-9c1d-100000000004:service"
    assert payment.external_id == tx.service_payment_external_id
    assert payment.provider == "Shabakahoi Taqsimoti Barq"
    assert payment.category == "electricity"
    assert payment.service_account_masked == "••••4567"
    assert payment.autopay is False
    assert payment.amount == Money(18030, "TJS")


def test_an_unknown_provider_without_category_is_a_generic_service_payment(mapper, transactions):
    raw = copy.deepcopy(transactions[3])
    raw["transaction_attributes"] = [{"name": "SERVICE_PROVIDER", "value": "Somon Air"}]

    tx, payment = mapper.map_transactions([raw], ACC).records

    assert tx.category is None
    assert payment.provider == "Somon Air"
    assert payment.category == "utilities"
    assert payment.service_account_masked is None


def test_an_unknown_category_is_dropped_not_quarantined(mapper, transactions):
    raw = copy.deepcopy(transactions[1])
    raw["transaction_attributes"].append({"name": "CATEGORY", "value": "travel"})

    page = mapper.map_transactions([raw], ACC)

    assert page.issues == []
    assert page.records[0].category is None


def test_plain_mode_ignores_the_attributes(transactions):
    page = ObpMapper().map_transactions(transactions, ACC)

    assert page.issues == []
    assert len(page.records) == 4  # no service payments
    first = page.records[0]
    assert first.type == "SERVICE_PAYMENT"  # details.type, not the TYPE attribute
    assert first.category is None
    assert first.card_external_id is None
    assert page.records[1].status == "PENDING"
    assert page.records[2].type == "TRANSFER_IN"


def test_unknown_attributes_and_empty_values_are_ignored(mapper, transactions):
    raw = copy.deepcopy(transactions[1])
    raw["transaction_attributes"] += [
        {"name": "RISK_SCORE", "value": 17},
        {"name": "mcc", "value": "not-a-code"},
        {"name": "MERCHANT_NAME", "value": ""},
        {"name": "FX_RATE", "value": None},
    ]

    (tx,) = mapper.map_transactions([raw], ACC).records

    assert tx.mcc == "5942"
    assert tx.merchant_name == "Amazon"
    assert tx.fx_rate == Decimal("10.9692")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("FX_RATE", "10,97", "attribute FX_RATE: not a decimal amount"),
        ("FX_RATE", "NaN", "attribute FX_RATE: not a decimal amount"),
        ("FX_RATE", "-1.5", "FX_RATE must be positive"),
        ("FX_RATE", "0", "FX_RATE must be positive"),
        ("ORIGINAL_AMOUNT", "49.999", "more than 2 decimal places for USD"),
        ("ORIGINAL_AMOUNT", "1e309", "amount out of range"),
        ("ORIGINAL_CURRENCY", "DOLLAR", "unknown currency code 'DOLLAR'"),
        ("STATUS", "SETTLED", "attribute STATUS has an unknown value 'SETTLED'"),
        ("TYPE", "PURCHASE", "attribute TYPE has an unknown value 'PURCHASE'"),
        ("AUTOPAY", "yes", 'AUTOPAY must be "true" or "false"'),
        ("MCC", "59a2", "attribute MCC must be four digits"),
        ("COUNTERPARTY_COUNTRY", "USA", "COUNTERPARTY_COUNTRY must be an ISO 3166 alpha-2"),
        ("CARD_ID", 42, "attribute CARD_ID is not a string"),
    ],
)
def test_a_malformed_attribute_quarantines_its_transaction_only(
    mapper, transactions, name, value, reason
):
    bad = copy.deepcopy(transactions)
    bad[1]["transaction_attributes"].append({"name": name, "value": value})

    page = mapper.map_transactions(bad, ACC)

    (issue,) = page.issues
    assert issue.kind == "transaction"
    assert issue.external_id == "a1f0c3d2-0002-4b7e-9c1d-100000000002"
    assert reason in issue.reason
    ids = [r.external_id for r in page.records if isinstance(r, TransactionRecord)]
    assert ids == [t["id"] for i, t in enumerate(transactions) if i != 1]


def test_original_amount_needs_its_currency(mapper, transactions):
    raw = copy.deepcopy(transactions[1])
    raw["transaction_attributes"] = [{"name": "ORIGINAL_AMOUNT", "value": "-49.99"}]

    page = mapper.map_transactions([raw], ACC)

    assert "come together" in page.issues[0].reason


def test_a_service_payment_needs_a_posting_time(mapper, transactions):
    raw = copy.deepcopy(transactions[3])
    raw["details"]["posted"] = None

    page = mapper.map_transactions([raw], ACC)

    assert page.records == []
    assert "details.posted is missing" in page.issues[0].reason


def test_the_last_occurrence_of_an_attribute_wins(mapper, transactions):
    raw = copy.deepcopy(transactions[1])
    raw["transaction_attributes"].append({"name": "MERCHANT_NAME", "value": "Amazon US"})

    (tx,) = mapper.map_transactions([raw], ACC).records

    assert tx.merchant_name == "Amazon US"


def test_attributes_that_are_not_a_list_quarantine_the_transaction(mapper, transactions):
    raw = copy.deepcopy(transactions[1])
    raw["transaction_attributes"] = {"STATUS": "BOOKED"}

    page = mapper.map_transactions([raw], ACC)

    assert page.issues[0].reason == "transaction_attributes is not a list"


def test_the_vocabulary_is_exactly_the_agreed_one():
    assert len(ATTRIBUTE_NAMES) == 16
    assert "PENDING_TRANSACTION_ID" in ATTRIBUTE_NAMES
    assert len(CATEGORY_KEYS) == 20


def test_a_service_payment_too_large_to_negate_is_quarantined(mapper, transactions):
    raw = copy.deepcopy(transactions[3])
    raw["details"]["value"]["amount"] = "-92233720368547758.08"  # the most negative BIGINT

    page = mapper.map_transactions([raw, transactions[0]], ACC)

    assert [type(r).__name__ for r in page.records] == ["TransactionRecord", "ServicePaymentRecord"]
    assert "amount out of range" in page.issues[0].reason


@pytest.mark.parametrize("name", [{"a": 1}, ["STATUS"], 5, None, True, 1.5, ""])
def test_an_attribute_whose_name_is_no_string_is_ignored_like_an_unknown_one(
    mapper, transactions, name
):
    """A hostile bank's attribute named by an object, a list, a number, null or "" is
    no attribute this mapper knows: the transaction maps as without it (before, an object
    or list name failed the whole page with a TypeError)."""
    plain = mapper.map_transactions(transactions[:1], ACC, offset=0)
    odd = copy.deepcopy(transactions[:1])
    odd[0]["transaction_attributes"].insert(0, {"name": name, "value": "FAILED"})
    page = mapper.map_transactions(odd, ACC, offset=0)
    assert page.issues == plain.issues == []
    assert page.records == plain.records
