"""Plain OBP accounts, balances, cards and transaction requests -> records."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from connectors.base import AccountRecord, BalanceRecord, TransferEventRecord, TransferRecord
from connectors.obp.cards import card_fingerprint, card_scheme, card_status
from connectors.obp.mapping import ObpMapper
from connectors.obp.vocabulary import account_type, balance_type
from ledger.money import Money

WALLET = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
USD = "5f0c2d1e-9b7a-4c3e-8d2f-1a6b7c8d9e0f"
AS_OF = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
FULL_PANS = ("4028011234561234", "9762001234567890", "9762 0012 3456 7890", "4209811111111111")


@pytest.fixture
def mapper() -> ObpMapper:
    return ObpMapper(today=lambda: date(2024, 3, 10))


# -- accounts ---------------------------------------------------------------------------


def test_account_details_map_to_records(mapper, load):
    page = mapper.map_accounts([load("account_wallet.json"), load("account_usd.json")])

    assert page.issues == []
    wallet, usd = page.records
    assert wallet == AccountRecord(
        external_id=WALLET,
        bank_id="alif.tj",
        name="Alif wallet",
        type="WALLET",
        currency="TJS",
        number="20202972100049668601",
        product_code="WALLET",
        routings=(("AccountNumber", "20202972100049668601"),),
    )
    assert usd.type == "CURRENT"
    assert usd.name == "20206840500049668601"  # no label: the number names it
    assert usd.routings == (("AccountNumber", "20206840500049668601"),)


def test_an_account_without_currency_is_quarantined(mapper, load):
    hidden = load("account_usd.json")
    hidden["balance"] = None

    page = mapper.map_accounts([load("account_wallet.json"), hidden])

    assert [r.external_id for r in page.records] == [WALLET]
    (issue,) = page.issues
    assert issue.kind == "account"
    assert issue.external_id == USD
    assert "currency is unknown" in issue.reason


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("WALLET", None), "WALLET"),
        (("savings", None), "SAVINGS"),
        (("CURRENT_ACCOUNT", "SAVINGS"), "CURRENT"),
        (("GOLD-PLUS", "Term Deposit"), "DEPOSIT"),
        (("CACC", None), "CURRENT"),
        ((None, "card"), "CARD"),
        (("LOAN", None), "LOAN"),
        (("PREMIUM", None), "CURRENT"),
        ((None, None), "CURRENT"),
    ],
)
def test_account_type_table(candidates, expected):
    assert account_type(*candidates) == expected


# -- balances ---------------------------------------------------------------------------


def test_bank_balances_map_to_booked_and_available(mapper, load):
    page = mapper.map_balances(load("bank_balances.json")["accounts"], AS_OF)

    assert page.issues == []
    assert page.records == [
        BalanceRecord(WALLET, "BOOKED", Money(152075, "TJS"), AS_OF),
        BalanceRecord(WALLET, "AVAILABLE", Money(149075, "TJS"), AS_OF),
        BalanceRecord(USD, "BOOKED", Money(31000, "USD"), AS_OF),
    ]


def test_one_bad_balance_quarantines_its_account_only(mapper, load):
    raw = load("bank_balances.json")["accounts"]
    raw[0]["balances"][1]["amount"] = "1,490.75"

    page = mapper.map_balances(raw, AS_OF)

    assert [r.account_external_id for r in page.records] == [USD]
    (issue,) = page.issues
    assert issue.kind == "balance"
    assert issue.external_id == WALLET
    assert "balances[1]" in issue.reason


@pytest.mark.parametrize(
    ("obp_type", "expected"),
    [
        ("OpeningBooked", "BOOKED"),
        ("closingBooked", "BOOKED"),
        ("InterimCleared", "BOOKED"),
        ("interimAvailable", "AVAILABLE"),
        ("ClosingAvailable", "AVAILABLE"),
        ("expected", "AVAILABLE"),
        ("BOOKED", "BOOKED"),
        ("AVAILABLE", "AVAILABLE"),
        (None, "BOOKED"),
    ],
)
def test_balance_type_table(obp_type, expected):
    assert balance_type(obp_type) == expected


def test_an_unknown_balance_type_is_quarantined(mapper):
    raw = [{"account_id": "a", "balances": [{"type": "nonInvoiced", "currency": "TJS",
                                              "amount": "1"}]}]  # fmt: skip

    page = mapper.map_balances(raw, AS_OF)

    assert page.records == []
    assert "unknown balance type 'nonInvoiced'" in page.issues[0].reason


# -- cards ------------------------------------------------------------------------------


def test_cards_are_masked_at_the_boundary(mapper, load):
    page = mapper.map_cards(load("cards.json")["cards"])

    assert page.issues == []
    visa, korti, _other_bank = page.records
    assert visa.pan_masked == "402801******1234"
    assert visa.scheme == "VISA"
    assert visa.status == "ACTIVE"
    assert visa.expires_on == "01/27"
    assert visa.holder_name == "FARRUKH RAHIMOV"
    assert visa.account_external_id == WALLET
    assert korti.pan_masked == "976200******7890"
    assert korti.scheme == "KORTI_MILLI"
    assert korti.status == "BLOCKED"
    for record in page.records:
        for pan in FULL_PANS:
            assert pan not in repr(record)


def test_card_id_is_used_when_present_else_a_stable_fingerprint(mapper, load):
    raw = load("cards.json")["cards"]
    raw[0]["card_id"] = "card-uuid-1"

    first = mapper.map_cards(raw).records
    again = mapper.map_cards(load("cards.json")["cards"]).records

    assert first[0].external_id == "card-uuid-1"
    assert first[1].external_id == again[1].external_id
    assert first[1].external_id == card_fingerprint("alif.tj", WALLET, "976200******7890", "06/25")
    assert len({r.external_id for r in again}) == 3


def test_a_bad_card_number_is_quarantined_without_echoing_it(mapper, load):
    raw = load("cards.json")["cards"]
    raw[0]["bank_card_number"] = "4028-0112-3456-12X4"

    page = mapper.map_cards(raw)

    assert len(page.records) == 2
    (issue,) = page.issues
    assert issue.kind == "card"
    assert "bank_card_number" in issue.reason
    assert "0112" not in issue.reason
    assert "4028-0112-3456-12X4" not in issue.excerpt


def test_a_quarantined_card_excerpt_never_holds_the_full_pan(mapper, load):
    raw = load("cards.json")["cards"]
    raw[0]["expires_date"] = "someday"

    page = mapper.map_cards(raw)

    (issue,) = page.issues
    assert "expires_date" in issue.reason
    assert "4028011234561234" not in issue.excerpt
    assert '"bank_card_number": "402801****' in issue.excerpt


@pytest.mark.parametrize(
    ("bin_digits", "networks", "expected"),
    [
        ("402801", [], "VISA"),
        ("439051", [], "VISA"),
        ("531099", [], "MASTERCARD"),
        ("551234", [], "MASTERCARD"),
        ("222100", [], "MASTERCARD"),
        ("272099", [], "MASTERCARD"),
        ("272100", [], "OTHER"),
        ("222099", [], "OTHER"),
        ("976251", [], "KORTI_MILLI"),
        ("626238", [], "UNIONPAY"),
        ("", ["Korti Milli"], "KORTI_MILLI"),
        ("", ["MasterCard"], "MASTERCARD"),
        ("", ["union-pay"], "UNIONPAY"),
        ("860012", ["UzCard"], "OTHER"),
    ],
)
def test_scheme_detection(bin_digits, networks, expected):
    assert card_scheme(bin_digits, networks) == expected


@pytest.mark.parametrize(
    ("flags", "expires", "expected"),
    [
        ({"enabled": True, "cancelled": False, "on_hot_list": False}, (2027, 1), "ACTIVE"),
        ({"enabled": True, "cancelled": True, "on_hot_list": True}, (2027, 1), "CANCELLED"),
        ({"enabled": True, "cancelled": False, "on_hot_list": True}, (2020, 1), "BLOCKED"),
        ({"enabled": False, "cancelled": False, "on_hot_list": False}, (2020, 1), "EXPIRED"),
        ({"enabled": False, "cancelled": None, "on_hot_list": None}, (2027, 1), "BLOCKED"),
        ({"enabled": None, "cancelled": None, "on_hot_list": None}, (2024, 3), "ACTIVE"),
        ({"enabled": True, "cancelled": False, "on_hot_list": False}, (2024, 2), "EXPIRED"),
        ({"enabled": True, "cancelled": False, "on_hot_list": False}, None, "ACTIVE"),
    ],
)
def test_card_status_table(flags, expires, expected):
    expiry = datetime(expires[0], expires[1], 1, tzinfo=UTC) if expires else None

    assert card_status(**flags, expires=expiry, today=date(2024, 3, 10)) == expected


# -- transfers (transaction requests) --------------------------------------------------


def test_transaction_requests_map_to_outbound_transfers(mapper, load):
    page = mapper.map_transfers(
        load("transaction_requests.json")["transaction_requests_with_charges"], WALLET
    )

    assert page.issues == []
    rent, sepa = page.records
    assert rent == TransferRecord(
        external_id="7e1d6f2a-aaaa-4bbb-8ccc-000000000001",
        account_external_id=WALLET,
        direction="OUTBOUND",
        amount=Money(25000, "TJS"),
        fee=Money(150, "TJS"),
        destination_amount=None,
        fx_rate=None,
        rail="DOMESTIC",
        corridor=None,
        counterparty_name=None,
        counterparty_account="••••0001",
        counterparty_country=None,
        reference="Rent March",
        status="COMPLETED",
        created_at=datetime(2024, 3, 5, 10, 0, tzinfo=UTC),
        completed_at=datetime(2024, 3, 5, 10, 0, 3, tzinfo=UTC),
        events=(TransferEventRecord("COMPLETED", datetime(2024, 3, 5, 10, 0, 3, tzinfo=UTC)),),
    )
    assert sepa.status == "PENDING"
    assert sepa.fee is None
    assert sepa.rail == "OTHER"
    assert sepa.counterparty_account == "••••3000"
    assert sepa.completed_at is None
    assert sepa.events == (TransferEventRecord("PENDING", datetime(2024, 3, 6, 8, tzinfo=UTC)),)


@pytest.mark.parametrize(
    ("obp_status", "expected"),
    [
        ("INITIATED", "CREATED"),
        ("PENDING", "PENDING"),
        ("NEXT_CHALLENGE_PENDING", "PENDING"),
        ("FORWARDED", "PENDING"),
        ("COMPLETED", "COMPLETED"),
        ("FAILED", "FAILED"),
        ("REJECTED", "FAILED"),
        ("CANCELLED", "CANCELLED"),
        ("CANCELLATION_PENDING", "CANCELLED"),
    ],
)
def test_transfer_status_table(mapper, load, obp_status, expected):
    raw = load("transaction_requests.json")["transaction_requests_with_charges"][:1]
    raw[0]["status"] = obp_status

    (record,) = mapper.map_transfers(raw, WALLET).records

    assert record.status == expected
    assert record.events[0].status == expected


@pytest.mark.parametrize(
    ("obp_type", "rail"),
    [("VISA_DIRECT", "VISA_DIRECT"), ("SWIFT", "SWIFT"), ("COUNTERPARTY", "DOMESTIC"),
     ("SANDBOX_TAN", "DOMESTIC"), ("SEPA", "OTHER"), ("CRYPTO", "OTHER")],
)  # fmt: skip
def test_transfer_rail_table(mapper, load, obp_type, rail):
    raw = load("transaction_requests.json")["transaction_requests_with_charges"][:1]
    raw[0]["type"] = obp_type

    assert mapper.map_transfers(raw, WALLET).records[0].rail == rail


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("status", "EXPLODED", "unknown transaction request status 'EXPLODED'"),
        ("start_date", None, "start_date is missing"),
        ("charge", {"value": {"currency": "TJS", "amount": "1.555"}}, "charge.value"),
    ],
)
def test_a_bad_transfer_is_quarantined(mapper, load, field, value, reason):
    raw = load("transaction_requests.json")["transaction_requests_with_charges"]
    bad = copy.deepcopy(raw)
    bad[0][field] = value

    page = mapper.map_transfers(bad, WALLET)

    assert [r.external_id for r in page.records] == [raw[1]["id"]]
    assert reason in page.issues[0].reason
