"""ObpConnector: which upstream calls make up each sync step, over a scripted OBP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import Connector, TransactionRecord
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


async def test_transaction_page_asks_one_ascending_page_of_the_window(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    txs = load("transactions.json")["transactions"]
    obp.route("GET", TX_PATH, httpx.Response(200, json={"transactions": txs[:2]}))
    since = datetime(2024, 3, 1, tzinfo=UTC)
    until = datetime(2024, 3, 8, 23, 59, 59, tzinfo=UTC)

    page = await connector.transaction_page(WALLET, since=since, until=until, offset=7, limit=5)

    assert (page.offset, page.raw_count, page.total) == (7, 2, None)
    assert page.positions == [t["id"] for t in txs[:2]]
    assert [r.external_id for r in page.records] == [t["id"] for t in txs[:2]]
    assert all(isinstance(r, TransactionRecord) for r in page.records)
    (request,) = obp.to(TX_PATH)
    assert request.headers["obp_offset"] == request.url.params["offset"] == "7"
    assert request.headers["obp_limit"] == request.url.params["limit"] == "5"
    assert request.headers["obp_from_date"] == "2024-03-01T00:00:00.000Z"
    assert request.headers["obp_to_date"] == "2024-03-08T23:59:59.000Z"
    assert request.headers["obp_sort_direction"] == request.url.params["sort_direction"] == "ASC"


@pytest.mark.parametrize("served", [0, 1, 3])
async def test_a_short_page_is_one_request_and_no_conclusion(connector, obp, load, served):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    txs = load("transactions.json")["transactions"][:served]
    obp.route("GET", TX_PATH, httpx.Response(200, json={"transactions": txs}))

    page = await connector.transaction_page(WALLET, since=None, until=None, offset=0, limit=50)

    assert len(obp.to(TX_PATH)) == 1
    assert page.raw_count == len(page.positions) == served
    assert page.total is None
    request = obp.to(TX_PATH)[0]
    assert "obp_from_date" not in request.headers and "from_date" not in request.url.params
    assert "obp_to_date" not in request.headers and "to_date" not in request.url.params


async def test_positions_keep_served_order_including_quarantined_items(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    good = load("transactions.json")["transactions"]
    no_id = {**good[0], "id": None}
    bad_amount = {**good[1], "id": "tx-bad", "details": {**good[1]["details"], "value": None}}
    served = [good[2], no_id, bad_amount, good[0]]
    obp.route("GET", TX_PATH, httpx.Response(200, json={"transactions": served}))

    page = await connector.transaction_page(WALLET, since=None, until=None, offset=3, limit=4)

    assert page.positions == [good[2]["id"], None, "tx-bad", good[0]["id"]]
    assert [r.external_id for r in page.records] == [good[2]["id"], good[0]["id"]]
    assert sorted(i.external_id or "" for i in page.issues) == ["", "tx-bad"]


async def test_a_failing_page_raises_a_typed_error(make_client, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.route("GET", TX_PATH, obp.error(503, "OBP-50000: Unknown Error."))
    connector = ObpConnector(make_client(max_retries=1), ObpMapper(), BANK, page_size=2)

    with pytest.raises(UpstreamUnavailable):
        await connector.transaction_page(WALLET, since=None, until=None, offset=0, limit=2)

    assert len(obp.to(TX_PATH)) == 2


TR_PATH = f"/obp/v5.1.0/banks/{BANK}/accounts/{WALLET}/owner/transaction-requests"


def _requests(n: int, template: dict) -> list[dict]:
    return [{**template, "id": f"b1a2c3d4-0000-4000-8000-{i:012d}"} for i in range(n)]


async def test_transfer_pages_of_a_bank_that_does_not_page_are_one_page(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.ok("GET", TR_PATH, load("transaction_requests.json"))  # the same list at any offset

    pages = [p async for p in connector.transfer_pages(WALLET)]

    assert len(pages) == 1
    assert len(pages[0].records) == 2
    assert [r.url.params["offset"] for r in obp.to(TR_PATH)] == ["0", "2"]


async def test_transfer_pages_of_an_unpaged_list_longer_than_asked_stop_there(connector, obp, load):
    template = load("transaction_requests.json")["transaction_requests_with_charges"][0]
    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.ok("GET", TR_PATH, {"transaction_requests_with_charges": _requests(5, template)})

    pages = [p async for p in connector.transfer_pages(WALLET)]

    assert [len(p.records) for p in pages] == [5]
    assert len(obp.to(TR_PATH)) == 1


@pytest.mark.parametrize(("total", "cap"), [(3, 2), (7, 1), (5, 2), (4, 2)])
async def test_transfer_pages_read_past_a_capped_page(client, obp, load, total, cap):
    """The bank serves at most `cap` whatever is asked; a short page is not the end."""
    template = load("transaction_requests.json")["transaction_requests_with_charges"][0]
    everything = _requests(total, template)

    def paged(request):
        offset = int(request.url.params["offset"])
        limit = min(int(request.url.params["limit"]), cap)
        chunk = everything[offset : offset + limit]
        return httpx.Response(200, json={"transaction_requests_with_charges": chunk})

    obp.ok("GET", "/obp/v5.1.0/my/accounts", load("my_accounts.json"))
    obp.route("GET", TR_PATH, paged)
    connector = ObpConnector(client, ObpMapper(), BANK, page_size=3)

    pages = [p async for p in connector.transfer_pages(WALLET)]

    assert [r.external_id for p in pages for r in p.records] == [t["id"] for t in everything]
    assert [p.offset for p in pages] == list(range(0, total, cap))


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
