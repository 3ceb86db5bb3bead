"""Each account is read through a view the user holds on it: owner, else one that sees
transactions; an account with none is a SyncIssue, not a 403 forever."""

from __future__ import annotations

import pytest

from connectors.errors import UpstreamForbidden
from connectors.obp.connector import ObpConnector
from connectors.obp.mapping import ObpMapper
from connectors.obp.views import choose_view

BANK = "alif.tj"
ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
ACCOUNT = f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}"


def view(view_id: str, **extra: object) -> dict[str, object]:
    return {"id": view_id, "short_name": view_id, "is_public": False, **extra}


@pytest.mark.parametrize(
    ("views", "chosen"),
    [
        ([view("accountant"), view("owner")], "owner"),
        ([view("accountant")], "accountant"),
        ([view("public", is_public=True), view("auditor")], "auditor"),
        ([view("public", is_public=True)], "public"),
        ([view("owner", can_see_transaction_amount=False), view("team")], "team"),
        (
            [
                view("x", allowed_actions=["can_see_balance"]),
                view("y", allowed_actions=["can_see_transaction_amount"]),
            ],
            "y",
        ),
        ([view("x", can_see_transaction_amount=False)], None),
        ([], None),
        (["owner", {"short_name": "no id"}], None),
    ],
)
def test_choose_view(views, chosen):
    assert choose_view(views) == chosen


def accounts(*views: dict[str, object], key: str = "views") -> dict[str, object]:
    return {"accounts": [{"id": ACC, "bank_id": BANK, "label": "Shared", key: list(views)}]}


@pytest.fixture
def connector(client) -> ObpConnector:
    return ObpConnector(client, ObpMapper(), BANK, page_size=5)


@pytest.mark.parametrize("key", ["views", "views_available"])
@pytest.mark.parametrize("view_id", ["accountant", "auditor-2024"])
async def test_a_shared_account_is_read_through_the_users_view_everywhere(
    connector, obp, load, key, view_id
):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", accounts(view(view_id), key=key))
    obp.ok("GET", f"{ACCOUNT}/views/{view_id}", load("account_wallet.json"))
    obp.ok("GET", f"{ACCOUNT}/{view_id}/transactions", load("transactions.json"))
    obp.ok("GET", f"{ACCOUNT}/{view_id}/transaction-requests",
           load("transaction_requests.json"))  # fmt: skip

    page = await connector.accounts()
    txs = await connector.transaction_page(ACC, since=None, until=None, offset=0, limit=5)
    transfers = [p async for p in connector.transfer_pages(ACC)]

    assert [r.external_id for r in page.records] == [ACC]
    assert len(txs.records) == 3 and transfers
    paths = [r.url.path for r in obp.requests if r.url.path.startswith(ACCOUNT)]
    assert paths and all(f"/{view_id}" in p and "/owner" not in p for p in paths)


async def test_an_account_with_no_usable_view_is_an_issue_and_no_403(connector, obp):
    obp.ok(
        "GET",
        "/obp/v5.1.0/my/accounts",
        accounts(view("summary", can_see_transaction_amount=False)),
    )

    page = await connector.accounts()

    assert page.records == []
    (issue,) = page.issues
    assert (issue.kind, issue.external_id) == ("account", ACC)
    assert "no view" in issue.reason and "summary" in issue.reason
    assert not [r for r in obp.requests if r.url.path.startswith(ACCOUNT)]
    with pytest.raises(UpstreamForbidden, match="none of the user's views"):
        await connector.transaction_page(ACC, since=None, until=None, offset=0, limit=5)
    assert not [r for r in obp.requests if r.url.path.startswith(ACCOUNT)]


async def test_an_account_the_user_does_not_list_is_refused_before_any_call(connector, obp):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", {"accounts": []})

    with pytest.raises(UpstreamForbidden):
        await connector.transaction_page(ACC, since=None, until=None, offset=0, limit=5)


async def test_views_are_learnt_once_without_accounts_first(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", accounts(view("accountant")))
    obp.ok("GET", f"{ACCOUNT}/accountant/transactions", load("transactions.json"))

    for offset in (0, 3, 6):
        await connector.transaction_page(ACC, since=None, until=None, offset=offset, limit=5)

    assert len(obp.to("/obp/v5.1.0/my/accounts")) == 1
    assert len(obp.to(f"{ACCOUNT}/accountant/transactions")) == 3


async def test_an_account_listed_without_views_keeps_obps_owner_default(connector, obp, load):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", {"accounts": [{"id": ACC, "bank_id": BANK}]})
    obp.ok("GET", f"{ACCOUNT}/views/owner", load("account_wallet.json"))

    page = await connector.accounts()

    assert [r.external_id for r in page.records] == [ACC]
