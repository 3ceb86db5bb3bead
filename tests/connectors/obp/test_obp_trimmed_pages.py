"""Transaction pages decoded with only the keys the mapper reads (`Trimmed`) map to the
very pages the whole decode gives: the same records, positions and issues, a quarantined
record's excerpt showing it as sent. Held on the sandbox bank's pages and on pages with
broken records of every kind the mapper quarantines."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.alif.mapping import AlifMapper
from connectors.obp.auth import DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import ObpConnector
from connectors.obp.fields import Finite, Trimmed
from connectors.obp.mapping import ObpMapper
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig

BANK = "alif.tj"
ACC = "8ca8a7e4-6d02-40e3-a129-0b2bf89de9f0"
TX_PATH = f"/obp/v5.1.0/banks/{BANK}/accounts/{ACC}/owner/transactions"
MY_ACCOUNTS = {"accounts": [{"id": ACC, "bank_id": BANK, "views": [{"id": "owner"}]}]}
MAPPERS = [ObpMapper, AlifMapper]


def _alike(page: Any, expected: Any) -> None:
    assert page.records == expected.records
    assert page.issues == expected.issues
    assert (page.positions, page.raw_count, page.offset) == (
        expected.positions,
        expected.raw_count,
        expected.offset,
    )


@pytest.mark.parametrize("seed", [3, 7, 42])
async def test_the_sandbox_banks_pages_map_alike_trimmed_and_whole(seed: int) -> None:
    app = create_app(SandboxConfig(seed=seed, customers=1, transactions_per_account=150))
    bank = app.state.bank
    customer = bank.customers[0]
    login = DirectLogin(customer.username, customer.password, bank.consumer_key)
    transport = httpx.ASGITransport(app=app)
    async with ObpClient("http://sandbox.test", login, transport=transport) as client:
        for account in bank.accounts_of(customer.username):
            for offset in (0, 50, 100):
                asked = {"limit": 50, "offset": offset}
                whole = await client.transactions_page(BANK, account.id, "owner", **asked)
                for mapper in MAPPERS:
                    keys = mapper.transaction_keys
                    page = await client.transactions_page(
                        BANK, account.id, "owner", keep=keys, **asked
                    )
                    assert isinstance(page, Trimmed) and page
                    assert all(set(item) <= set(keys) for item in page)
                    assert page.whole() == whole
                    _alike(
                        mapper().map_transactions(page, account.id, offset),
                        mapper().map_transactions(whole, account.id, offset),
                    )


def _tx(n: int) -> dict[str, Any]:
    return {
        "id": f"tx-{n:04d}",
        "this_account": {"id": ACC, "bank_routing": {"scheme": "OBP", "address": BANK}},
        "other_account": {
            "holder": {"name": f"Payee {n}"},
            "bank_routing": {"scheme": "BIC", "address": "OTJKTJ22"},
            "account_routings": [{"scheme": "IBAN", "address": f"TJ{n:020d}"}],
            "metadata": {"public_alias": None},
        },
        "details": {
            "type": "CARD_PAYMENT",
            "description": f"Purchase {n}",
            "posted": "2024-03-01T09:15:00Z",
            "completed": "2024-03-01T09:15:00Z",
            "value": {"currency": "TJS", "amount": f"-{n}.25"},
            "new_balance": {"currency": "TJS", "amount": "10.00"},
        },
        "metadata": {"narrative": None, "tags": []},
        "transaction_attributes": [
            {"name": "MCC", "type": "STRING", "value": "5411"},
            {"name": "SERVICE_PROVIDER", "type": "STRING", "value": "Tcell"},
        ],
    }


# Ways a record breaks: (path to a key, the value put there); "$del" removes the key.
_BREAKS: list[tuple[tuple[Any, ...], Any]] = [
    (("id",), None),
    (("id",), 7),
    (("details",), "text"),
    (("details",), "$del"),
    (("details", "value"), None),
    (("details", "value", "amount"), -1.5),
    (("details", "value", "amount"), "1.234"),
    (("details", "value", "currency"), "XXX"),
    (("details", "posted"), "yesterday"),
    (("details", "posted"), None),
    (("details", "completed"), 20240301),
    (("details", "description"), ["a"]),
    (("details", "new_balance"), "10"),
    (("other_account",), "nobody"),
    (("other_account", "holder"), 3),
    (("other_account", "account_routings"), {"address": "x"}),
    (("other_account", "account_routings", 0), "TJ00"),
    (("transaction_attributes",), "MCC=5411"),
    (("transaction_attributes", 0), None),
    (("transaction_attributes", 0, "value"), 5411),
    (("transaction_attributes", 1, "value"), None),
    (("metadata",), "never read"),
    (("this_account",), None),
]


def _broken(item: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    item = copy.deepcopy(item)
    target: Any = item
    for step in path[:-1]:
        target = target[step]
    if value == "$del":
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return item


@pytest.fixture
def connectors(client) -> Callable[[type[ObpMapper]], ObpConnector]:
    return lambda mapper: ObpConnector(client, mapper(), BANK)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(1, 6),
    breaks=st.dictionaries(st.integers(0, 5), st.sampled_from(range(len(_BREAKS))), max_size=3),
    mapper=st.sampled_from(MAPPERS),
)
async def test_a_page_with_broken_records_maps_as_the_whole_decode_maps_it(
    connectors, obp, size: int, breaks: dict[int, int], mapper: type[ObpMapper]
) -> None:
    obp.ok("GET", "/obp/v5.1.0/my/accounts", MY_ACCOUNTS)
    items = [_tx(n) for n in range(size)]
    for index, which in breaks.items():
        if index < size:
            items[index] = _broken(items[index], *_BREAKS[which])
    text = json.dumps({"transactions": items})
    obp.route("GET", TX_PATH, httpx.Response(200, text=text))

    page = await connectors(mapper).transaction_page(
        ACC, since=None, until=None, offset=0, limit=size
    )

    sent = json.loads(text, parse_float=Decimal)["transactions"]  # as the client parses it
    _alike(page, mapper().map_transactions(Finite(sent), ACC))


def test_a_trimmed_page_with_an_issue_is_mapped_from_its_whole_items() -> None:
    """The excerpt of a quarantined record shows what the bank sent, skipped keys too."""
    bad = {"id": "tx-0002", "a_note": "as sent", "details": {"posted": "yesterday"}}
    whole = [_tx(1), bad]
    trimmed = [{k: v for k, v in item.items() if k in ObpMapper.transaction_keys} for item in whole]

    page = ObpMapper().map_transactions(Trimmed(trimmed, lambda: Finite(whole)), ACC)

    (issue,) = page.issues
    assert issue.excerpt.startswith('{"a_note": "as sent"')
    assert [r.external_id for r in page.records] == ["tx-0001"]
