"""The transactions endpoint: OBP paging from headers and query, order, filters, shapes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from connectors.sandbox import SandboxBank

from .sandbox_support import API, Login, account_path, expect_error, transactions_path

AMOUNT_RE = re.compile(r"^-?\d+\.\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _card_account(bank: SandboxBank) -> str:
    return bank.accounts_of("dilnoza")[1].id


async def _ids(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[str]:
    response = await client.get(path, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [t["id"] for t in response.json()["transactions"]]


def _posted(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["details"]["posted"])


async def test_default_page_is_50_newest_first(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    newest = list(bank.iter_transactions(account_id))[::-1][:50]

    response = await client.get(transactions_path(account_id), headers=await login())

    assert [t["id"] for t in response.json()["transactions"]] == [t.id for t in newest]
    assert response.headers["range"] == "items=0-50"


async def test_paging_by_headers(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    headers = await login()
    ascending = [t.id for t in bank.iter_transactions(account_id)]

    response = await client.get(
        transactions_path(account_id),
        headers={**headers, "obp_limit": "7", "obp_offset": "3", "obp_sort_direction": "ASC"},
    )

    assert [t["id"] for t in response.json()["transactions"]] == ascending[3:10]
    assert response.headers["range"] == "items=3-7"


async def test_paging_by_query_and_unprefixed_wins(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    headers = await login()
    ascending = [t.id for t in bank.iter_transactions(account_id)]

    by_query = await _ids(
        client, transactions_path(account_id), headers, limit=5, offset=2, sort_direction="asc"
    )
    both = await _ids(
        client,
        transactions_path(account_id),
        {**headers, "obp_limit": "20", "OBP_SORT_DIRECTION": "DESC"},
        LIMIT=4,
        Sort_Direction="ASC",
    )

    assert by_query == ascending[2:7]
    assert both == ascending[:4]


async def test_pages_cover_everything_once_in_both_directions(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    headers = await login()
    total = bank.count_transactions(account_id)

    pages: dict[str, list[str]] = {"ASC": [], "DESC": []}
    for direction, ids in pages.items():
        offset = 0
        while True:
            page = await _ids(
                client,
                transactions_path(account_id),
                {
                    **headers,
                    "obp_limit": "100",
                    "obp_offset": str(offset),
                    "obp_sort_direction": direction,
                },
            )
            ids.extend(page)
            if len(page) < 100:
                break
            offset += 100

    assert len(pages["ASC"]) == total == len(set(pages["ASC"]))
    assert pages["DESC"] == pages["ASC"][::-1]


async def test_order_is_posted_then_id(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)

    response = await client.get(
        transactions_path(account_id),
        params={"limit": 500, "sort_direction": "ASC"},
        headers=await login(),
    )

    keys = [(_posted(t), t["id"]) for t in response.json()["transactions"]]
    assert keys == sorted(keys)


async def test_date_filters_are_inclusive(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    everything = list(bank.iter_transactions(account_id))
    first, last = everything[100].posted, everything[140].posted

    response = await client.get(
        transactions_path(account_id),
        headers={
            **await login(),
            "obp_from_date": first.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "obp_to_date": last.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "obp_sort_direction": "ASC",
            "obp_limit": "1000",
        },
    )

    assert [t["id"] for t in response.json()["transactions"]] == [t.id for t in everything[100:141]]


async def test_date_filter_and_paging_combine(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card_account(bank)
    everything = list(bank.iter_transactions(account_id))
    since = everything[200].posted.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    newest = await _ids(
        client, transactions_path(account_id), await login(), from_date=since, limit=10, offset=5
    )

    assert newest == [t.id for t in everything[::-1][5:15]]


@pytest.mark.parametrize(
    ("headers", "params", "code"),
    [
        ({"obp_from_date": "2025-01-01"}, {}, "OBP-10026"),
        ({}, {"to_date": "2025-01-01T00:00:00Z"}, "OBP-10026"),
        ({"obp_from_date": "2025-02-30T00:00:00.000Z"}, {}, "OBP-10026"),
        ({"obp_limit": "0"}, {}, "OBP-10025"),
        ({}, {"limit": "ten"}, "OBP-10025"),
        ({"obp_offset": "-1"}, {}, "OBP-10024"),
        ({}, {"sort_direction": "UP"}, "OBP-10023"),
    ],
)
async def test_bad_paging_parameters(
    client: httpx.AsyncClient,
    login: Login,
    bank: SandboxBank,
    headers: dict[str, str],
    params: dict[str, str],
    code: str,
) -> None:
    response = await client.get(
        transactions_path(_card_account(bank)), headers={**await login(), **headers}, params=params
    )

    expect_error(response, 400, code)


async def test_transaction_json_shape(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account = bank.accounts_of("dilnoza")[1]

    response = await client.get(
        transactions_path(account.id), params={"limit": 300}, headers=await login()
    )

    items = response.json()["transactions"]
    for item in items:
        assert set(item) == {
            "id", "this_account", "other_account", "details", "metadata", "transaction_attributes",
        }  # fmt: skip
        details = item["details"]
        assert set(details) == {
            "type",
            "description",
            "posted",
            "completed",
            "new_balance",
            "value",
        }
        assert AMOUNT_RE.match(details["value"]["amount"])
        assert details["value"]["currency"] == "TJS"
        assert DATE_RE.match(details["posted"])
        assert item["this_account"]["account_routings"] == [
            {"scheme": "AccountNumber", "address": account.number}
        ]
        assert item["other_account"]["holder"]["name"]
        attributes = {a["name"]: a["value"] for a in item["transaction_attributes"]}
        assert all(
            a["type"] == "STRING" and a["transaction_attribute_id"]
            for a in item["transaction_attributes"]
        )
        assert details["type"] == attributes["TYPE"]
        if attributes["STATUS"] == "PENDING":
            assert details["completed"] is None and details["new_balance"] is None
        else:
            assert DATE_RE.match(details["completed"])
            assert AMOUNT_RE.match(details["new_balance"]["amount"])
    assert any(i["details"]["completed"] is None for i in items)


async def test_one_transaction(client: httpx.AsyncClient, login: Login, bank: SandboxBank) -> None:
    account_id = _card_account(bank)
    headers = await login()
    wanted = list(bank.iter_transactions(account_id))[123]
    base = f"{account_path(account_id)}/owner/transactions"

    found = await client.get(f"{base}/{wanted.id}/transaction", headers=headers)
    missing = await client.get(f"{base}/{wanted.id[:-4]}ffff/transaction", headers=headers)

    assert found.json()["id"] == wanted.id
    assert (
        found.json()["details"]["new_balance"]["amount"] == f"{wanted.new_balance_minor / 100:.2f}"
    )
    expect_error(missing, 400, "OBP-30067")


async def test_other_users_account_looks_missing(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    foreign = bank.accounts_of("farrukh")[0].id

    for path in (
        transactions_path(foreign),
        f"{account_path(foreign)}/views/owner",
        f"{account_path(foreign)}/views/owner/balances",
        f"{account_path(foreign)}/owner/transaction-requests",
        transactions_path("no-such-account"),
    ):
        expect_error(await client.get(path, headers=headers), 404, "OBP-30018")


async def test_only_the_owner_view_exists(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    account_id = _card_account(bank)

    public = await client.get(transactions_path(account_id, view="public"), headers=headers)
    core = await client.get(f"{account_path(account_id)}/views/accountant", headers=headers)
    bad_bank = await client.get(
        f"{API}/banks/gh.29.uk/accounts/{account_id}/owner/transactions", headers=headers
    )

    expect_error(public, 403, "OBP-20017")
    expect_error(core, 403, "OBP-20017")
    expect_error(bad_bank, 404, "OBP-30001")


async def test_unknown_path_is_an_obp_404(client: httpx.AsyncClient) -> None:
    expect_error(await client.get(f"{API}/no/such/endpoint"), 404, "OBP-10404")
