"""Endpoint paths, paging headers, and the page generator's stop and resume rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from connectors.errors import UpstreamMalformed

BANK = "alif.tj"
ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
TX_PATH = f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/transactions"


def txs(*ids: str) -> httpx.Response:
    return httpx.Response(200, json={"transactions": [{"id": i} for i in ids]})


@pytest.mark.parametrize(
    ("method_name", "args", "path", "fixture", "key"),
    [
        ("banks", (), "/obp/v5.1.0/banks", "banks.json", "banks"),
        ("my_accounts", (), "/obp/v5.1.0/my/accounts", "my_accounts.json", "accounts"),
        ("accounts_held", (BANK,), f"/obp/v5.1.0/banks/{BANK}/accounts-held",
         "my_accounts.json", "accounts"),
        ("bank_balances", (BANK,), f"/obp/v5.1.0/banks/{BANK}/balances",
         "bank_balances.json", "accounts"),
        ("cards", (), "/obp/v5.1.0/cards", "cards.json", "cards"),
        ("transaction_requests", (BANK, ACC),
         f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/transaction-requests",
         "transaction_requests.json", "transaction_requests_with_charges"),
        ("counterparties", (BANK, ACC),
         f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/counterparties",
         "counterparties.json", "counterparties"),
    ],
)  # fmt: skip
async def test_list_endpoints(client, obp, load, method_name, args, path, fixture, key):
    body = load(fixture)
    obp.ok("GET", path, body)

    items = await getattr(client, method_name)(*args)

    assert items == body[key]
    assert obp.requests[-1].url.path == path


@pytest.mark.parametrize(
    ("method_name", "args", "path"),
    [
        ("account", (BANK, ACC), f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/views/owner"),
        ("account_balances", (BANK, ACC),
         f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/views/owner/balances"),
        ("transaction", (BANK, ACC, "tx-1"), f"{TX_PATH}/tx-1/transaction"),
    ],
)  # fmt: skip
async def test_object_endpoints(client, obp, method_name, args, path):
    obp.ok("GET", path, {"id": "x"})

    assert await getattr(client, method_name)(*args) == {"id": "x"}


async def test_view_is_configurable(make_client, obp):
    obp.ok("GET", f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/views/auditor", {"id": ACC})
    client = make_client(view_id="auditor")

    assert await client.account(BANK, ACC) == {"id": ACC}


@pytest.mark.parametrize("bad", ["../admin", "a/b", "x?y=1", "..", "", "a b"])
async def test_ids_that_would_change_the_path_are_refused(client, obp, bad):
    with pytest.raises(ValueError, match="OBP ids"):
        await client.account(BANK, bad)

    assert obp.requests == []


async def test_paging_filters_travel_as_headers(client, obp):
    obp.route("GET", TX_PATH, txs("a"))
    dushanbe = timezone(timedelta(hours=5))

    await client.transactions_page(
        BANK,
        ACC,
        limit=50,
        offset=150,
        from_date=datetime(2024, 1, 31, 5, 0, 0, 123456, tzinfo=dushanbe),
        to_date=datetime(2024, 2, 29, 23, 59, 59),
        sort="DESC",
    )

    request = obp.to(TX_PATH)[0]
    assert request.headers["obp_limit"] == "50"
    assert request.headers["obp_offset"] == "150"
    assert request.headers["obp_from_date"] == "2024-01-31T00:00:00.123Z"
    assert request.headers["obp_to_date"] == "2024-02-29T23:59:59.000Z"
    assert request.headers["obp_sort_direction"] == "DESC"
    assert request.url.query == b""


async def test_dates_are_left_out_when_not_given(client, obp):
    obp.route("GET", TX_PATH, txs())

    await client.transactions_page(BANK, ACC)

    request = obp.to(TX_PATH)[0]
    assert "obp_from_date" not in request.headers
    assert "obp_to_date" not in request.headers
    assert request.headers["obp_sort_direction"] == "ASC"
    assert request.headers["obp_limit"] == "100"


@pytest.mark.parametrize(
    "kwargs", [{"limit": 0}, {"offset": -1}, {"sort": "asc"}], ids=["limit", "offset", "sort"]
)
async def test_bad_paging_arguments_are_refused(client, kwargs):
    with pytest.raises(ValueError):
        await client.transactions_page(BANK, ACC, **kwargs)


async def test_pages_until_a_short_page(client, obp):
    obp.route("GET", TX_PATH, txs("t1", "t2"), txs("t3", "t4"), txs("t5"))

    pages = [p async for p in client.iter_transaction_pages(BANK, ACC, limit=2)]

    assert [(offset, [t["id"] for t in page]) for offset, page in pages] == [
        (0, ["t1", "t2"]),
        (2, ["t3", "t4"]),
        (4, ["t5"]),
    ]
    assert [r.headers["obp_offset"] for r in obp.to(TX_PATH)] == ["0", "2", "4"]
    assert {r.headers["obp_limit"] for r in obp.to(TX_PATH)} == {"2"}


async def test_a_full_last_page_costs_one_empty_page(client, obp):
    obp.route("GET", TX_PATH, txs("t1", "t2"), txs())

    pages = [p async for p in client.iter_transaction_pages(BANK, ACC, limit=2)]

    assert pages == [(0, [{"id": "t1"}, {"id": "t2"}]), (2, [])]


async def test_paging_resumes_from_the_given_offset(client, obp):
    since = datetime(2024, 3, 1, tzinfo=UTC)
    obp.route("GET", TX_PATH, txs("t5"))

    pages = [
        p
        async for p in client.iter_transaction_pages(BANK, ACC, limit=2, offset=4, from_date=since)
    ]

    assert pages == [(4, [{"id": "t5"}])]
    request = obp.to(TX_PATH)[0]
    assert request.headers["obp_offset"] == "4"
    assert request.headers["obp_from_date"] == "2024-03-01T00:00:00.000Z"


async def test_a_page_longer_than_the_limit_is_malformed(make_client, obp):
    obp.route("GET", TX_PATH, txs("t1", "t2", "t3"))
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamMalformed, match="3 items for a limit of 2"):
        await client.transactions_page(BANK, ACC, limit=2)


async def test_a_repeated_page_is_asked_for_again(client, obp, sleeps):
    obp.route("GET", TX_PATH, txs("t1", "t2"), txs("t1", "t2"), txs("t3"))

    pages = [p async for p in client.iter_transaction_pages(BANK, ACC, limit=2)]

    assert pages == [(0, [{"id": "t1"}, {"id": "t2"}]), (2, [{"id": "t3"}])]
    assert [r.headers["obp_offset"] for r in obp.to(TX_PATH)] == ["0", "2", "2"]
    assert len(sleeps.calls) == 1


async def test_a_server_ignoring_the_offset_does_not_loop_forever(make_client, obp):
    obp.route("GET", TX_PATH, txs("t1", "t2"))
    client = make_client(max_retries=2)

    with pytest.raises(UpstreamMalformed, match="repeats the previous page"):
        async for _ in client.iter_transaction_pages(BANK, ACC, limit=2):
            pass

    assert len(obp.to(TX_PATH)) == 4  # the first page, then three tries at offset 2
