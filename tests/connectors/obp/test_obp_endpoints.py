"""Endpoint paths, views in paths, and where the paging parameters travel."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
        ("transaction_requests", (BANK, ACC, "owner"),
         f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/transaction-requests",
         "transaction_requests.json", "transaction_requests_with_charges"),
        ("counterparties", (BANK, ACC, "owner"),
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
        ("account", (BANK, ACC, "owner"), f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/views/owner"),
        ("account_balances", (BANK, ACC, "owner"),
         f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/views/owner/balances"),
        ("transaction", (BANK, ACC, "owner", "tx-1"), f"{TX_PATH}/tx-1/transaction"),
    ],
)  # fmt: skip
async def test_object_endpoints(client, obp, method_name, args, path):
    obp.ok("GET", path, {"id": "x"})

    assert await getattr(client, method_name)(*args) == {"id": "x"}


@pytest.mark.parametrize("view", ["auditor", "accountant", "_custom.view-1"])
async def test_every_account_path_carries_the_given_view(client, obp, view):
    account = f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}"
    obp.ok("GET", f"{account}/views/{view}", {"id": ACC})
    obp.ok("GET", f"{account}/views/{view}/balances", {"balances": []})
    obp.ok("GET", f"{account}/{view}/transactions", {"transactions": []})
    obp.ok("GET", f"{account}/{view}/transactions/t-1/transaction", {"id": "t-1"})
    obp.ok("GET", f"{account}/{view}/transaction-requests",
           {"transaction_requests_with_charges": []})  # fmt: skip
    obp.ok("GET", f"{account}/{view}/counterparties", {"counterparties": []})

    assert await client.account(BANK, ACC, view) == {"id": ACC}
    assert await client.account_balances(BANK, ACC, view) == {"balances": []}
    assert await client.transactions_page(BANK, ACC, view) == []
    assert await client.transaction(BANK, ACC, view, "t-1") == {"id": "t-1"}
    assert await client.transaction_requests(BANK, ACC, view) == []
    assert await client.counterparties(BANK, ACC, view) == []
    assert all(view in r.url.path for r in obp.requests if r.url.path != "/my/logins/direct")


@pytest.mark.parametrize("bad", ["../admin", "a/b", "x?y=1", "..", "", "a b"])
async def test_ids_that_would_change_the_path_are_refused(client, obp, bad):
    with pytest.raises(ValueError, match="OBP ids"):
        await client.account(BANK, bad, "owner")
    with pytest.raises(ValueError, match="OBP ids"):
        await client.transactions_page(BANK, ACC, bad)

    assert obp.requests == []


async def test_paging_parameters_travel_in_headers_and_in_the_query(client, obp):
    obp.route("GET", TX_PATH, txs("a"))
    dushanbe = timezone(timedelta(hours=5))

    await client.transactions_page(
        BANK,
        ACC,
        "owner",
        limit=50,
        offset=150,
        from_date=datetime(2024, 1, 31, 5, 0, 0, 123456, tzinfo=dushanbe),
        to_date=datetime(2024, 2, 29, 23, 59, 59),
        sort="DESC",
    )

    request = obp.to(TX_PATH)[0]
    sent = {
        "limit": "50",
        "offset": "150",
        "sort_direction": "DESC",
        "from_date": "2024-01-31T00:00:00.123Z",
        "to_date": "2024-02-29T23:59:59.000Z",
    }
    # OBP-API reads the headers (obp_NAME, or NAME, which wins); other banks the query.
    assert {k: request.headers[f"obp_{k}"] for k in sent} == sent
    assert dict(request.url.params) == sent
    assert (request.headers["limit"], request.headers["offset"]) == ("50", "150")


async def test_an_nginx_dropping_underscored_headers_still_passes_the_paging(client, obp):
    """nginx's default (`underscores_in_headers off`) silently drops obp_* headers."""

    def behind_nginx(request: httpx.Request) -> httpx.Response:
        kept = {k: v for k, v in request.headers.items() if "_" not in k}
        limit = int(request.url.params.get("limit") or kept.get("limit") or 50)
        offset = int(request.url.params.get("offset") or kept.get("offset") or 0)
        ids = [f"t{n}" for n in range(offset, min(offset + limit, 12))]
        return txs(*ids)

    obp.route("GET", TX_PATH, behind_nginx)

    page = await client.transactions_page(BANK, ACC, "owner", limit=5, offset=10)

    assert [t["id"] for t in page] == ["t10", "t11"]


async def test_dates_are_left_out_when_not_given(client, obp):
    obp.route("GET", TX_PATH, txs())

    await client.transactions_page(BANK, ACC, "owner")

    request = obp.to(TX_PATH)[0]
    assert not {"obp_from_date", "obp_to_date", "from_date", "to_date"} & set(request.headers)
    assert not {"from_date", "to_date"} & set(request.url.params)
    assert request.headers["obp_sort_direction"] == "ASC"
    assert request.headers["obp_limit"] == "100"


@pytest.mark.parametrize(
    "kwargs", [{"limit": 0}, {"offset": -1}, {"sort": "asc"}], ids=["limit", "offset", "sort"]
)
async def test_bad_paging_arguments_are_refused(client, kwargs):
    with pytest.raises(ValueError):
        await client.transactions_page(BANK, ACC, "owner", **kwargs)


@pytest.mark.parametrize("served", [0, 1, 2])
async def test_a_page_is_returned_as_served_with_one_request(client, obp, served):
    obp.route("GET", TX_PATH, txs(*[f"t{n}" for n in range(served)]))

    page = await client.transactions_page(BANK, ACC, "owner", limit=2, offset=4)

    assert [t["id"] for t in page] == [f"t{n}" for n in range(served)]
    assert len(obp.to(TX_PATH)) == 1


async def test_the_same_page_twice_is_served_as_is(client, obp, sleeps):
    """Overlap checks belong to the window reader: the client retries nothing here."""
    obp.route("GET", TX_PATH, txs("t1", "t2"))

    first = await client.transactions_page(BANK, ACC, "owner", limit=2, offset=0)
    second = await client.transactions_page(BANK, ACC, "owner", limit=2, offset=2)

    assert first == second
    assert sleeps.calls == []


@pytest.mark.parametrize("limit", [1, 2, 7])
async def test_a_page_longer_than_the_limit_is_malformed(make_client, obp, limit):
    obp.route("GET", TX_PATH, txs(*[f"t{n}" for n in range(limit + 1)]))
    client = make_client(max_retries=1)

    with pytest.raises(UpstreamMalformed, match=f"{limit + 1} items for a limit of {limit}"):
        await client.transactions_page(BANK, ACC, "owner", limit=limit)

    assert len(obp.to(TX_PATH)) == 2  # retried once, like any malformed answer
