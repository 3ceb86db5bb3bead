"""Alif accounts, transfers with details, the provider catalogue and the connector."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from connectors.alif import ALIF_BANK_ID, AlifMapper, alif_connector
from connectors.alif.catalogue import PROVIDERS, find_provider
from connectors.base import ServicePaymentRecord, TransactionRecord, TransferEventRecord
from connectors.obp.auth import BearerAuth
from connectors.obp.client import ObpClient
from connectors.obp.mapping import ObpMapper
from ledger.money import Money

ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"


def at(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=UTC)


# -- accounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product_code", "account_type", "expected"),
    [
        ("WALLET", None, "WALLET"),
        ("salom", None, "CARD"),
        ("NASIYA", "CURRENT", "LOAN"),
        ("DEPOSIT", None, "DEPOSIT"),
        ("CURRENT_ACCOUNT", None, "CURRENT"),
        ("VIP", "SAVINGS", "SAVINGS"),
    ],
)
def test_alif_product_codes(mapper, product_code, account_type, expected):
    raw = {"id": "a", "bank_id": ALIF_BANK_ID, "product_code": product_code,
           "account_type": account_type, "balance": {"currency": "TJS", "amount": "0"}}  # fmt: skip

    (record,) = mapper.map_accounts([raw]).records

    assert record.type == expected


# -- transfers ----------------------------------------------------------------------------


def test_visa_direct_transfer_with_history(mapper, transfers):
    visa, _, _ = mapper.map_transfers(transfers, ACC).records

    assert visa.direction == "OUTBOUND"
    assert visa.rail == "VISA_DIRECT"
    assert visa.corridor == "TJ->US"
    assert visa.amount == Money(110000, "TJS")
    assert visa.fee == Money(0, "TJS")
    assert visa.destination_amount == Money(10000, "USD")
    assert visa.fx_rate == Decimal("0.0909")
    assert visa.counterparty_name == "John Smith"
    assert visa.counterparty_account == "••••1111"
    assert visa.counterparty_country == "US"
    assert visa.reference == "Family support"
    assert visa.status == "COMPLETED"
    assert visa.created_at == at(6, 10, 0)
    assert visa.completed_at == at(6, 10, 1)
    assert visa.events == (
        TransferEventRecord("CREATED", at(6, 10, 0)),
        TransferEventRecord("SENT", at(6, 10, 0, 5), "Sent to Visa Direct"),
        TransferEventRecord("COMPLETED", at(6, 10, 1), "Credited to card"),
    )
    assert "4111111111111111" not in repr(visa)


def test_inbound_remittance_takes_its_status_from_the_history(mapper, transfers):
    _, remittance, _ = mapper.map_transfers(transfers, ACC).records

    assert remittance.direction == "INBOUND"
    assert remittance.rail == "MONEY_TRANSFER_SYSTEM"
    assert remittance.corridor == "RU->TJ"
    assert remittance.status == "AVAILABLE_FOR_PAYOUT"  # OBP only said PENDING
    assert remittance.completed_at is None
    assert remittance.fee == Money(12500, "RUB")
    assert remittance.destination_amount == Money(300000, "TJS")
    assert [e.status for e in remittance.events] == ["CREATED", "ON_HOLD", "AVAILABLE_FOR_PAYOUT"]
    assert remittance.events[1].note == "Compliance check"


def test_a_transfer_without_extras_maps_as_plain_obp(mapper, transfers):
    alif = mapper.map_transfers(transfers[2:], ACC).records
    plain = ObpMapper().map_transfers(transfers[2:], ACC).records

    assert alif == plain
    (failed,) = alif
    assert failed.status == "FAILED"
    assert failed.direction == "OUTBOUND"
    assert failed.events == (TransferEventRecord("FAILED", at(7, 10, 0, 2)),)


def test_plain_mode_ignores_transfer_extras(transfers):
    visa, remittance, _ = ObpMapper().map_transfers(transfers, ACC).records

    assert visa.rail == "VISA_DIRECT"  # from the OBP type
    assert visa.destination_amount is None
    assert remittance.direction == "OUTBOUND"
    assert remittance.status == "PENDING"
    assert remittance.counterparty_account is None


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("direction", "SIDEWAYS", "details.direction has an unknown value 'SIDEWAYS'"),
        ("rail", "PIGEON", "details.rail has an unknown value 'PIGEON'"),
        ("corridor", "Russia to Tajikistan", "details.corridor has an unexpected format"),
        ("fx_rate", "0,12", "details.fx_rate: not a decimal amount"),
        ("fx_rate", "-0.12", "details.fx_rate must be positive"),
        ("destination_value", {"currency": "TJS", "amount": "3000.001"},
         "details.destination_value"),
        ("status_history", [{"status": "LOST", "at": "2024-03-04T06:00:00Z"}],
         "details.status_history[0].status has an unknown value 'LOST'"),
        ("status_history", [{"status": "SENT", "at": "soon"}], "details.status_history[0].at"),
        ("status_history", "SENT", "details.status_history is not a list"),
        ("to", {"country": "Russia"}, "details.to.country has an unexpected format"),
    ],
)  # fmt: skip
def test_malformed_transfer_details_quarantine_that_transfer(mapper, transfers, key, value, reason):
    bad = copy.deepcopy(transfers)
    bad[1]["details"][key] = value

    page = mapper.map_transfers(bad, ACC)

    assert [r.external_id for r in page.records] == [transfers[0]["id"], transfers[2]["id"]]
    (issue,) = page.issues
    assert issue.kind == "transfer"
    assert issue.external_id == transfers[1]["id"]
    assert reason in issue.reason


def test_a_numeric_fx_rate_is_read_exactly(mapper, transfers):
    raw = copy.deepcopy(transfers[1])
    raw["details"]["fx_rate"] = Decimal("0.1200")  # what the client makes of a JSON number

    (record,) = mapper.map_transfers([raw], ACC).records

    assert record.fx_rate == Decimal("0.1200")


# -- catalogue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical", "category"),
    [
        ("Tcell", "Tcell", "mobile"),
        ("MEGAFON", "MegaFon", "mobile"),
        ("MegaFon Tajikistan", "MegaFon", "mobile"),
        ("Babilon-Mobile", "Babilon-M", "mobile"),
        ("zet mobile", "ZET-Mobile", "mobile"),
        ("O-Mobile", "O-Mobile", "mobile"),
        ("Barqi Tojik", "Barqi Tojik", "electricity"),
        ("Pamir Energy", "Pamir Energy", "electricity"),
        ("DUSHANBEVODOKANAL", "Dushanbevodokanal", "water"),
        ("Babilon-T", "Babilon-T", "internet"),
        ("Tojiktelecom", "Tojiktelecom", "internet"),
        ("alif nasiya", "Nasiya", "installments"),
    ],
)
def test_catalogue_lookup(name, canonical, category):
    provider = find_provider(name)

    assert provider is not None
    assert (provider.name, provider.category) == (canonical, category)


def test_catalogue_misses_are_none_and_names_are_unique():
    assert find_provider("Somon Air") is None
    assert find_provider("") is None
    assert len({p.name for p in PROVIDERS}) == len(PROVIDERS)


# -- connector ----------------------------------------------------------------------------


async def test_alif_connector_pages_alif_records(load):
    body = load("transactions.json")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/root"):
            return httpx.Response(200, json={"version": "v5.1.0"})
        if request.url.path.endswith("/my/accounts"):
            views = [{"id": "owner", "short_name": "Owner", "is_public": False}]
            return httpx.Response(
                200, json={"accounts": [{"id": ACC, "bank_id": ALIF_BANK_ID, "views": views}]}
            )
        return httpx.Response(200, json=body)

    client = ObpClient(
        "https://obp.alif.test", BearerAuth("t"), transport=httpx.MockTransport(handler)
    )
    connector = alif_connector(client, page_size=10)
    try:
        page = await connector.transaction_page(ACC, since=None, until=None, offset=0, limit=10)
    finally:
        await connector.aclose()

    kinds = [type(r) for r in page.records]
    assert kinds.count(TransactionRecord) == 4
    assert kinds.count(ServicePaymentRecord) == 2
    assert page.raw_count == 4
    assert page.positions == [t["id"] for t in body["transactions"]]
    assert seen[-1].url.path == (
        f"/obp/v5.1.0/banks/{ALIF_BANK_ID}/accounts/{ACC}/owner/transactions"
    )
    assert isinstance(AlifMapper(), ObpMapper)
