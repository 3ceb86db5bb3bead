"""Records the bank itself sent badly: bare NaN/Infinity literals, both dates hidden by the
view, and text at OBP's full column sizes (passed through whole)."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.base import TransactionRecord
from connectors.obp.connector import ObpConnector
from connectors.obp.mapping import ObpMapper

BANK = "alif.tj"
ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
TX_PATH = f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/transactions"
MY_ACCOUNTS = {"accounts": [{"id": ACC, "bank_id": BANK, "views": [{"id": "owner"}]}]}


@pytest.fixture
def connector(client, obp) -> ObpConnector:
    obp.ok("GET", "/obp/v5.1.0/my/accounts", MY_ACCOUNTS)
    return ObpConnector(client, ObpMapper(), BANK)


def tx(n: int) -> dict:
    return {
        "id": f"tx-{n:04d}",
        "details": {
            "type": "CARD_PAYMENT",
            "posted": "2024-03-01T09:15:00Z",
            "completed": "2024-03-01T09:15:00Z",
            "value": {"currency": "TJS", "amount": f"-{n}.25"},
            "new_balance": {"currency": "TJS", "amount": "10.00"},
        },
    }


def page_text(items: list[dict], literal_at: dict[int, tuple[str, str]]) -> str:
    """JSON of `items` with a bare literal at `field` (a dotted path) of chosen items."""
    for index, (field, _) in literal_at.items():
        *parents, last = field.split(".")
        target = items[index]
        for key in parents:
            target = target[key]
        target[last] = f"@{index}@"
    text = json.dumps({"transactions": items})
    for index, (_, literal) in literal_at.items():
        text = text.replace(f'"@{index}@"', literal)
    return text


@pytest.mark.parametrize(
    ("size", "bad"),
    [
        (100, {41: ("details.value.amount", "NaN")}),
        (5, {0: ("details.new_balance.amount", "Infinity"), 4: ("rate", "-Infinity")}),
        (3, {1: ("details.value.amount", "NaN"), 2: ("details.value.amount", "NaN")}),
    ],
)
async def test_a_bare_literal_quarantines_its_record_only(connector, obp, size, bad):
    items = [tx(n) for n in range(size)]
    obp.route("GET", TX_PATH, httpx.Response(200, text=page_text(items, bad)))

    page = await connector.transaction_page(ACC, since=None, until=None, offset=0, limit=size)

    bad_ids = {f"tx-{i:04d}" for i in bad}
    assert [r.external_id for r in page.records] == [
        t["id"] for t in items if t["id"] not in bad_ids
    ]
    assert page.positions == [t["id"] for t in items]
    assert {i.external_id for i in page.issues} == bad_ids
    for index, (field, literal) in bad.items():
        (issue,) = [i for i in page.issues if i.external_id == f"tx-{index:04d}"]
        assert issue.reason == f"{field} is a bare {literal} literal, not a JSON number"
    assert len(obp.to(TX_PATH)) == 1  # the page is not thrown away and asked again


def test_a_bare_literal_as_the_item_itself_is_named():
    from connectors.obp.fields import NonFiniteNumber

    page = ObpMapper().map_transactions([NonFiniteNumber("NaN"), tx(1)], ACC)

    assert [r.external_id for r in page.records] == ["tx-0001"]
    assert page.issues[0].reason == "transaction is a bare NaN literal, not a JSON number"
    assert page.positions == [None, "tx-0001"]


@pytest.mark.parametrize("hidden", [(None, None), ("", None), (None, ""), ("", "")])
def test_both_dates_hidden_by_the_view_is_an_issue_with_that_reason(hidden):
    item = tx(7)
    item["details"]["posted"], item["details"]["completed"] = hidden

    page = ObpMapper().map_transactions([tx(1), item, tx(2)], ACC)

    assert [r.external_id for r in page.records] == ["tx-0001", "tx-0002"]
    (issue,) = page.issues
    assert issue.external_id == "tx-0007"
    assert "details.posted and details.completed are both null" in issue.reason


@pytest.mark.parametrize(
    ("posted", "completed", "status"),
    [("2024-03-01T09:15:00Z", None, "PENDING"), (None, "2024-03-02T00:00:00Z", "BOOKED")],
)
def test_one_date_hidden_still_maps(posted, completed, status):
    item = tx(3)
    item["details"]["posted"], item["details"]["completed"] = posted, completed

    (record,) = ObpMapper().map_transactions([item], ACC).records

    assert isinstance(record, TransactionRecord)
    assert record.status == status


@pytest.mark.parametrize("name_size, description_size", [(255, 2000), (254, 1999), (1, 1)])
def test_text_passes_through_at_obps_full_sizes(name_size, description_size):
    item = tx(4)
    name = ("Ш" + "x" * 300)[:name_size]
    description = ("Пардохт " + "y" * 2100)[:description_size]
    item["details"]["description"] = description
    item["other_account"] = {"holder": {"name": name}}

    (record,) = ObpMapper().map_transactions([item], ACC).records

    assert isinstance(record, TransactionRecord)
    assert record.counterparty_name == name
    assert record.description == description


def test_account_labels_pass_through_whole():
    label = "L" * 255
    raw = {"id": ACC, "bank_id": BANK, "label": label, "balance": {"currency": "TJS"}}

    (record,) = ObpMapper().map_accounts([raw]).records

    assert record.name == label
