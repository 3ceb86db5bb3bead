"""ObpConnector: which upstream calls make up each sync step, over a scripted OBP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import Connector, Page, TransactionRecord
from connectors.errors import UpstreamUnavailable
from connectors.obp.connector import ObpConnector
from connectors.obp.mapping import ObpMapper

BANK = "alif.tj"
WALLET = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
USD = "5f0c2d1e-9b7a-4c3e-8d2f-1a6b7c8d9e0f"
TX_PATH = f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/owner/transactions"
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def connector(client) -> ObpConnector:
    return ObpConnector(client, ObpMapper(), BANK, page_size=2, clock=lambda: NOW)


def test_it_is_a_connector(connector):
    checked: Connector = connector  # mypy checks the Protocol; the sync engine reads page_size

    assert checked is connector
    assert connector.page_size == 2


async def test_accounts_lists_this_bank_and_reads_each_detail(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.ok(
        "GET",
        f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/views/owner",
        load("account_wallet.json"),
    )
    obp.ok("GET", f"/obp/v5.1.0/banks/{BANK}/accounts/{USD}/views/owner", load("account_usd.json"))

    page = await connector.accounts()

    assert [(r.external_id, r.type, r.currency) for r in page.records] == [
        (WALLET, "WALLET", "TJS"),
        (USD, "CURRENT", "USD"),
    ]
    assert page.issues == []
    assert page.raw_count == 2
    assert not any("eskhata" in r.url.path or "0d7e6f5a" in r.url.path for r in obp.requests)


async def test_an_account_the_view_hides_becomes_an_issue(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.ok(
        "GET",
        f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/views/owner",
        load("account_wallet.json"),
    )
    obp.route(
        "GET",
        f"/obp/v5.1.0/banks/{BANK}/accounts/{USD}/views/owner",
        obp.error(403, "OBP-20017: Current user does not have access to the view."),
    )

    page = await connector.accounts()

    assert [r.external_id for r in page.records] == [WALLET]
    (issue,) = page.issues
    assert issue.external_id == USD
    assert "OBP-20017" in issue.reason


async def test_balances_come_from_one_call(connector, obp, load):
    obp.ok("GET", f"/obp/v5.1.0/banks/{BANK}/balances", load("bank_balances.json"))

    page = await connector.balances([WALLET, USD, "gone-account"])

    assert len(obp.requests) == 2  # the login and ONE balances call
    assert [(r.account_external_id, r.type) for r in page.records] == [
        (WALLET, "BOOKED"),
        (WALLET, "AVAILABLE"),
        (USD, "BOOKED"),
    ]
    assert {r.as_of for r in page.records} == {NOW}
    (issue,) = page.issues
    assert issue.external_id == "gone-account"


async def test_balances_of_unrequested_accounts_are_left_out(connector, obp, load):
    obp.ok("GET", f"/obp/v5.1.0/banks/{BANK}/balances", load("bank_balances.json"))

    page = await connector.balances([USD])

    assert [r.account_external_id for r in page.records] == [USD]


async def test_cards_keep_this_banks_cards(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/cards", load("cards.json"))

    page = await connector.cards()

    assert [r.pan_masked for r in page.records] == ["402801******1234", "976200******7890"]


async def test_transaction_pages_ascend_from_since_and_map_each_page(connector, obp, load):
    txs = load("transactions.json")["transactions"]
    obp.route(
        "GET",
        TX_PATH,
        httpx.Response(200, json={"transactions": txs[:2]}),
        httpx.Response(200, json={"transactions": txs[2:]}),
    )
    since = datetime(2024, 3, 1, tzinfo=UTC)

    pages = [p async for p in connector.transaction_pages(WALLET, since)]

    assert [(p.offset, p.raw_count, len(p.records)) for p in pages] == [(0, 2, 2), (2, 1, 1)]
    assert all(isinstance(r, TransactionRecord) for p in pages for r in p.records)
    requests = obp.to(TX_PATH)
    assert [r.headers["obp_offset"] for r in requests] == ["0", "2"]
    assert {r.headers["obp_from_date"] for r in requests} == {"2024-03-01T00:00:00.000Z"}
    assert {r.headers["obp_sort_direction"] for r in requests} == {"ASC"}
    assert {r.headers["obp_limit"] for r in requests} == {"2"}


async def test_transaction_pages_resume_at_an_offset(connector, obp, load):
    txs = load("transactions.json")["transactions"]
    obp.route("GET", TX_PATH, httpx.Response(200, json={"transactions": txs[2:]}))

    pages = [p async for p in connector.transaction_pages(WALLET, None, offset=2)]

    assert [p.offset for p in pages] == [2]
    assert "obp_from_date" not in obp.to(TX_PATH)[0].headers


async def test_a_failing_page_stops_the_stream_with_a_typed_error(make_client, obp, load):
    txs = load("transactions.json")["transactions"]
    obp.route(
        "GET",
        TX_PATH,
        httpx.Response(200, json={"transactions": txs[:2]}),
        obp.error(503, "OBP-50000: Unknown Error."),
    )
    connector = ObpConnector(make_client(max_retries=1), ObpMapper(), BANK, page_size=2)
    seen: list[Page] = []

    with pytest.raises(UpstreamUnavailable):
        async for page in connector.transaction_pages(WALLET, None):
            seen.append(page)

    assert [p.offset for p in seen] == [0]


async def test_transfer_pages_is_one_page(connector, obp, load):
    obp.ok(
        "GET",
        f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/owner/transaction-requests",
        load("transaction_requests.json"),
    )

    pages = [p async for p in connector.transfer_pages(WALLET)]

    assert len(pages) == 1
    assert len(pages[0].records) == 2


async def test_aclose_closes_the_client(connector, obp):
    await connector.aclose()

    with pytest.raises(RuntimeError):
        await connector.accounts()


def test_page_size_must_be_positive(client):
    with pytest.raises(ValueError):
        ObpConnector(client, ObpMapper(), BANK, page_size=0)


async def test_an_account_id_obp_would_not_issue_becomes_an_issue(connector, obp):
    obp.ok(
        "GET",
        "/obp/v5.1.0/my/accounts",
        {"accounts": [{"id": "../../admin", "bank_id": BANK}, {"bank_id": BANK}]},
    )

    page = await connector.accounts()

    assert page.records == []
    reasons = sorted(i.reason for i in page.issues)
    assert reasons == ["account id is not a valid OBP id", "id is missing"]
    assert len(obp.requests) == 2  # the login and the list; no detail call


async def test_transfer_pages_follow_a_bank_that_pages_them(connector, obp, load):
    items = load("transaction_requests.json")["transaction_requests_with_charges"]
    third = {**items[0], "id": "b1a2c3d4-0000-4000-8000-000000000003"}
    everything = [*items, third]

    def paged(request):
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        chunk = everything[offset : offset + limit]
        return httpx.Response(200, json={"transaction_requests_with_charges": chunk})

    obp.route(
        "GET", f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/owner/transaction-requests", paged
    )

    pages = [p async for p in connector.transfer_pages(WALLET)]

    assert [len(p.records) for p in pages] == [2, 1]
    assert [p.offset for p in pages] == [0, 2]
