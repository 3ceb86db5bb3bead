"""Keyset pagination: every row exactly once, forwards and backwards, also while rows arrive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.relay.ids import to_global_id

from .helpers import Api
from .ledger_data import START, AccountData, LedgerData, add_transaction

ACCOUNT_PAGE = """
query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
           $order: TransactionOrder!) {
  node(id: $id) {
    ... on Account {
      transactions(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
        totalCount
        edges { cursor node { id bookingDate } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}
"""

ALL_PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String) {
  transactions(first: $first, after: $after, last: $last, before: $before) {
    edges { node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def expected_ids(accounts: list[AccountData], *, descending: bool) -> list[str]:
    rows = [t for a in accounts for t in a.counted()]
    rows.sort(key=lambda t: (t["booking_date"], t["id"]), reverse=descending)
    return [to_global_id("Transaction", t["id"]) for t in rows]


async def walk_forward(api: Api, token: str, query: str, size: int, **variables: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        body = await api.query(query, {**variables, "first": size, "after": after}, token=token)
        connection = _connection(body)
        seen += [e["node"]["id"] for e in connection["edges"]]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            return seen
        after = info["endCursor"]


async def walk_backward(api: Api, token: str, query: str, size: int, **variables: Any) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        body = await api.query(query, {**variables, "last": size, "before": before}, token=token)
        connection = _connection(body)
        seen = [e["node"]["id"] for e in connection["edges"]] + seen
        info = connection["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            return seen
        before = info["startCursor"]


def _connection(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    data = body["data"]
    connection: dict[str, Any] = (
        data["node"]["transactions"] if "node" in data else data["transactions"]
    )
    return connection


async def test_forwards_visits_every_row_of_an_account_once_in_order(api: Api, ledger: LedgerData):
    token = await api.token()
    account_id = to_global_id("Account", ledger.wallet.id)

    for order, descending in (("BOOKING_DATE_DESC", True), ("BOOKING_DATE_ASC", False)):
        seen = await walk_forward(api, token, ACCOUNT_PAGE, 17, id=account_id, order=order)

        assert seen == expected_ids([ledger.wallet], descending=descending)


async def test_backwards_visits_every_row_of_an_account_once_in_order(api: Api, ledger: LedgerData):
    token = await api.token()
    account_id = to_global_id("Account", ledger.wallet.id)

    seen = await walk_backward(
        api, token, ACCOUNT_PAGE, 23, id=account_id, order="BOOKING_DATE_DESC"
    )

    assert seen == expected_ids([ledger.wallet], descending=True)


async def test_paging_across_all_accounts_merges_them_in_order(api: Api, ledger: LedgerData):
    token = await api.token()

    forwards = await walk_forward(api, token, ALL_PAGE, 100)
    backwards = await walk_backward(api, token, ALL_PAGE, 100)

    assert forwards == expected_ids(ledger.accounts_a, descending=True)
    assert backwards == forwards


async def test_superseded_pending_rows_are_not_listed(api: Api, ledger: LedgerData):
    seen = await walk_forward(api, await api.token(), ALL_PAGE, 100)

    assert to_global_id("Transaction", ledger.superseded_id) not in seen
    assert to_global_id("Transaction", ledger.replacing_id) in seen


async def test_rows_inserted_between_pages_do_not_shift_the_pages(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    given = await api.token()
    account_id = to_global_id("Account", ledger.wallet.id)
    originals = expected_ids([ledger.wallet], descending=True)
    seen: list[str] = []
    after = None
    page = 0

    while True:
        body = await api.query(
            ACCOUNT_PAGE,
            {"id": account_id, "first": 25, "after": after, "order": "BOOKING_DATE_DESC"},
            token=given,
        )
        connection = _connection(body)
        seen += [e["node"]["id"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        page += 1
        # A sync lands between two requests: a newer row (behind the cursor), an older
        # one (ahead of it) and one on the very day of the cursor.
        async with sessions() as session, session.begin():
            for n, day in enumerate(
                (START + timedelta(200), START, START + timedelta(180 - 8 * page))
            ):
                await add_transaction(session, ledger.wallet, day, -1_00, f"late-{page}-{n}")

    assert len(seen) == len(set(seen))
    assert [s for s in seen if s in set(originals)] == originals


async def test_total_count_is_the_number_of_listed_rows(api: Api, ledger: LedgerData):
    body = await api.query(
        ACCOUNT_PAGE,
        {"id": to_global_id("Account", ledger.wallet.id), "first": 1, "order": "BOOKING_DATE_DESC"},
    )

    assert _connection(body)["totalCount"] == len(ledger.wallet.counted())


async def test_an_empty_page_has_no_cursors(api: Api, ledger: LedgerData):
    body = await api.query(ALL_PAGE, {"first": 0})

    assert _connection(body) == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_default_page_size_is_twenty(api: Api, ledger: LedgerData):
    body = await api.query(ALL_PAGE)

    assert len(_connection(body)["edges"]) == 20
