"""Record faults and booked rows the bank changes, observed over HTTP.

Every knob is switched on a live app and read back through the OBP endpoints; after each
change or removal the whole listing is read again and its balance chain checked.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from connectors.sandbox import FaultConfig, SandboxBank, SandboxConfig, create_app
from connectors.sandbox.models import Party

from .sandbox_support import (
    API,
    AS_OF,
    FakeClock,
    Login,
    account_path,
    expect_error,
    transactions_path,
)

Item = dict[str, Any]


def _minor(text: str) -> int:
    return int(Decimal(text) * 100)


def _faults(app: Starlette) -> FaultConfig:
    config: FaultConfig = app.state.faults.config
    return config


async def _listing(
    client: httpx.AsyncClient, headers: dict[str, str], account_id: str, view: str = "owner"
) -> list[Item]:
    """Every transaction, oldest first, read in pages through query parameters."""
    items: list[Item] = []
    while True:
        response = await client.get(
            transactions_path(account_id, view),
            headers=headers,
            params={"limit": 97, "offset": len(items), "sort_direction": "ASC"},
        )
        assert response.status_code == 200, response.text
        page = response.json()["transactions"]
        if not page:
            return items
        items.extend(page)


async def _booked_balance(client: httpx.AsyncClient, headers: dict[str, str], account: str) -> int:
    response = await client.get(f"{account_path(account)}/views/owner", headers=headers)
    assert response.status_code == 200, response.text
    return _minor(response.json()["balance"]["amount"])


def _assert_chain(items: list[Item], booked_balance: int) -> None:
    """Each booked new balance is the previous one plus its amount; the last one is the
    account's booked balance."""
    booked = [t for t in items if t["details"]["new_balance"] is not None]
    for before, after in pairwise(booked):
        expected = _minor(before["details"]["new_balance"]["amount"]) + _minor(
            after["details"]["value"]["amount"]
        )
        assert _minor(after["details"]["new_balance"]["amount"]) == expected, after["id"]
    assert _minor(booked[-1]["details"]["new_balance"]["amount"]) == booked_balance


def _attributes(item: Item) -> dict[str, str]:
    return {a["name"]: a["value"] for a in item["transaction_attributes"]}


async def _one(
    client: httpx.AsyncClient, headers: dict[str, str], account_id: str, transaction_id: str
) -> httpx.Response:
    return await client.get(
        f"{transactions_path(account_id)}/{transaction_id}/transaction", headers=headers
    )


@pytest.fixture
def blocky_app(clock: FakeClock) -> Starlette:
    """Small blocks, so rows deep in the history live in blocks generated on demand."""
    return create_app(SandboxConfig(seed=7, as_of=AS_OF, clock=clock, block_size=40))


@pytest.fixture
async def blocky(blocky_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=blocky_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def _log_in(client: httpx.AsyncClient, bank: SandboxBank, username: str) -> dict[str, str]:
    credentials = (
        f'username="{username}", password="{username}-pass", consumer_key="{bank.consumer_key}"'
    )
    response = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
    assert response.status_code == 201, response.text
    return {"DirectLogin": f'token="{response.json()["token"]}"'}


# --- own-account transfers and shared ids ---------------------------------------------------


@pytest.mark.parametrize("shared", [False, True])
async def test_own_transfer_books_two_chained_legs(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank, shared: bool
) -> None:
    _faults(app).shared_transfer_ids = shared
    headers = await login("behruz")
    source, target = (a.id for a in bank.accounts_of("behruz"))
    before = {a: await _booked_balance(client, headers, a) for a in (source, target)}
    amount = bank.available_balance_minor(source) // 3

    response = await client.post(
        "/sandbox/admin/own-transfer",
        json={"from_account_id": source, "to_account_id": target, "amount_minor": amount},
    )

    assert response.status_code == 201, response.text
    debit, credit = response.json()["debit"], response.json()["credit"]
    assert (debit["transaction_id"] == credit["transaction_id"]) is shared
    assert (debit["account_id"], debit["amount_minor"]) == (source, -amount)
    assert (credit["account_id"], credit["amount_minor"]) == (target, amount)
    for account, leg, sign in ((source, debit, -1), (target, credit, 1)):
        items = await _listing(client, headers, account)
        balance = await _booked_balance(client, headers, account)
        assert balance == before[account] + sign * amount
        _assert_chain(items, balance)
        assert items[-1]["id"] == leg["transaction_id"]
        found = await _one(client, headers, account, leg["transaction_id"])
        assert found.status_code == 200
        assert found.json()["this_account"]["id"] == account
        assert _minor(found.json()["details"]["value"]["amount"]) == sign * amount
        assert _attributes(found.json())["TYPE"] == ("TRANSFER_IN" if sign > 0 else "TRANSFER_OUT")
    held = bank.rows_by_key("behruz")
    assert held[(source, debit["transaction_id"])].amount_minor == -amount
    assert held[(target, credit["transaction_id"])].amount_minor == amount


async def test_shared_ids_repeat_on_every_transfer_pair_but_differ_between_transfers(
    app: Starlette, bank: SandboxBank
) -> None:
    _faults(app).shared_transfer_ids = True
    source, target = (a.id for a in bank.accounts_of("dilnoza"))

    first = bank.own_transfer(source, target, 500)
    second = bank.own_transfer(target, source, 700)

    assert first[0].id == first[1].id and second[0].id == second[1].id
    assert first[0].id != second[0].id
    assert bank.find_transaction(source, second[0].id) == second[1]
    assert bank.find_transaction(target, second[0].id) == second[0]


@pytest.mark.parametrize(
    ("owner_from", "owner_to", "amount", "message"),
    [
        ("dilnoza", "behruz", 100, "one customer"),
        ("farrukh", "farrukh", 100, "one currency"),
        ("behruz", "behruz", 0, "amount_minor must be in"),
        ("behruz", "behruz", 10**12, "available balance"),
    ],
)
async def test_own_transfer_refuses_what_a_bank_would(
    client: httpx.AsyncClient,
    bank: SandboxBank,
    owner_from: str,
    owner_to: str,
    amount: int,
    message: str,
) -> None:
    source = bank.accounts_of(owner_from)[0].id
    target = bank.accounts_of(owner_to)[1].id
    count = bank.count_transactions(source)

    response = await client.post(
        "/sandbox/admin/own-transfer",
        json={"from_account_id": source, "to_account_id": target, "amount_minor": amount},
    )

    expect_error(response, 400, "OBP-10001")
    assert message in response.json()["message"]
    assert bank.count_transactions(source) == count


# --- hidden dates, maximal fields, bare NaN ---------------------------------------------------


async def test_hidden_dates_null_both_dates_of_exactly_those_rows(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank
) -> None:
    headers = await login()
    account_id = bank.accounts_of("dilnoza")[1].id
    plain = await _listing(client, headers, account_id)
    hidden = {plain[3]["id"], plain[-1]["id"], plain[len(plain) // 2]["id"]}
    _faults(app).hidden_dates = sorted(hidden)

    served = await _listing(client, headers, account_id)
    single = await _one(client, headers, account_id, plain[3]["id"])

    assert [t["id"] for t in served] == [t["id"] for t in plain]
    for before, after in zip(plain, served, strict=True):
        if after["id"] in hidden:
            assert after["details"]["posted"] is None
            assert after["details"]["completed"] is None
            assert {
                k: v for k, v in after["details"].items() if k not in ("posted", "completed")
            } == {k: v for k, v in before["details"].items() if k not in ("posted", "completed")}
        else:
            assert after == before
    assert single.json()["details"]["posted"] is None


async def test_max_length_fields_fill_obp_column_sizes_in_tajik(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank
) -> None:
    headers = await login("farrukh")
    account_id = bank.accounts_of("farrukh")[0].id
    plain = await _listing(client, headers, account_id)
    chosen = [plain[0], plain[-2]]
    _faults(app).max_length_fields = [t["id"] for t in chosen]

    served = {t["id"]: t for t in await _listing(client, headers, account_id)}

    for before in chosen:
        after = served[before["id"]]
        name = after["other_account"]["holder"]["name"]
        description = after["details"]["description"]
        assert len(name) == 255 and len(description) == 2000
        assert name.startswith(before["other_account"]["holder"]["name"])
        assert description.startswith(before["details"]["description"])
        assert not name[-1].isspace() and not description[-1].isspace()
        assert any(letter in description for letter in "ҷӯҳқғӣ")
        assert after["details"]["value"] == before["details"]["value"]
    assert all(served[t["id"]] == t for t in plain if t not in chosen)


async def test_bare_nan_is_a_bare_literal_in_an_otherwise_valid_page(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank
) -> None:
    headers = await login()
    account_id = bank.accounts_of("dilnoza")[0].id
    params: dict[str, str | int] = {"limit": 50, "sort_direction": "ASC"}
    plain = (await client.get(transactions_path(account_id), headers=headers, params=params)).json()
    bad = [plain["transactions"][1]["id"], plain["transactions"][40]["id"]]
    _faults(app).bare_nan_records = bad

    response = await client.get(transactions_path(account_id), headers=headers, params=params)

    assert response.status_code == 200
    assert response.text.count('"amount":NaN') == 2
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    lenient = json.loads(response.text)["transactions"]
    for before, after in zip(plain["transactions"], lenient, strict=True):
        amount = after["details"]["value"]["amount"]
        if after["id"] in bad:
            assert amount != amount  # NaN
        else:
            assert amount == before["details"]["value"]["amount"]
    single = await _one(client, headers, account_id, bad[0])
    assert '"amount":NaN' in single.text


# --- booked rows the bank changes or removes --------------------------------------------------


async def test_changed_amount_deep_in_the_history_shifts_every_later_balance(
    blocky: httpx.AsyncClient, blocky_app: Starlette
) -> None:
    bank: SandboxBank = blocky_app.state.bank
    headers = await _log_in(blocky, bank, "dilnoza")
    account_id = bank.accounts_of("dilnoza")[1].id
    assert bank.history(account_id).generator.block_count > 3
    before = await _listing(blocky, headers, account_id)
    balance = await _booked_balance(blocky, headers, account_id)
    deep, recent = before[45], before[-5]  # in block 1, and in the tail
    deep_amount = _minor(deep["details"]["value"]["amount"])

    response = await blocky.post(
        "/sandbox/admin/change-booked",
        json={
            "account_id": account_id,
            "transaction_id": deep["id"],
            "amount_minor": deep_amount - 1234,
        },
    )
    bank.change_booked(account_id, recent["id"], amount_minor=777)

    assert response.status_code == 200, response.text
    after = await _listing(blocky, headers, account_id)
    recent_delta = 777 - _minor(recent["details"]["value"]["amount"])
    new_balance = await _booked_balance(blocky, headers, account_id)
    assert new_balance == balance - 1234 + recent_delta
    _assert_chain(after, new_balance)
    assert [t["id"] for t in after] == [t["id"] for t in before]
    for old, new in zip(before, after, strict=True):
        if old["details"]["new_balance"] is None:
            continue
        shift = (-1234 if old["details"]["posted"] >= deep["details"]["posted"] else 0) + (
            recent_delta if old["details"]["posted"] >= recent["details"]["posted"] else 0
        )
        old_balance = _minor(old["details"]["new_balance"]["amount"])
        assert _minor(new["details"]["new_balance"]["amount"]) == old_balance + shift
    changed = await _one(blocky, headers, account_id, deep["id"])
    assert _minor(changed.json()["details"]["value"]["amount"]) == deep_amount - 1234
    kinds = [(r.transaction_id, r.kind) for r in bank.revisions_of(account_id)]
    assert kinds == [(deep["id"], "CHANGED"), (recent["id"], "CHANGED")]


async def test_changed_date_moves_the_row_and_the_balances_between(
    blocky: httpx.AsyncClient, blocky_app: Starlette
) -> None:
    bank: SandboxBank = blocky_app.state.bank
    headers = await _log_in(blocky, bank, "farrukh")
    account_id = bank.accounts_of("farrukh")[0].id
    before = await _listing(blocky, headers, account_id)
    moved, target = before[100], before[20]
    new_posted = datetime.fromisoformat(target["details"]["posted"]) - timedelta(seconds=1)

    bank.change_booked(
        account_id,
        moved["id"],
        posted=new_posted,
        counterparty=Party("ИП «Ҳисобдор»", "20208972400099999999", "ASSETJ22XXX", "TJ"),
    )

    after = await _listing(blocky, headers, account_id)
    ids = [t["id"] for t in after]
    assert len(after) == len(before)
    assert ids.index(moved["id"]) == 20 and ids.index(target["id"]) == 21
    _assert_chain(after, await _booked_balance(blocky, headers, account_id))
    row = after[20]
    assert row["details"]["posted"] == new_posted.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert row["other_account"]["holder"]["name"] == "ИП «Ҳисобдор»"
    assert row["other_account"]["account_routings"][0]["address"] == "20208972400099999999"
    since = new_posted.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    window = await blocky.get(
        transactions_path(account_id),
        headers=headers,
        params={"from_date": since, "to_date": since, "sort_direction": "ASC"},
    )
    assert [t["id"] for t in window.json()["transactions"]] == [moved["id"]]


async def test_removed_rows_vanish_and_the_chain_closes_over_them(
    blocky: httpx.AsyncClient, blocky_app: Starlette
) -> None:
    bank: SandboxBank = blocky_app.state.bank
    headers = await _log_in(blocky, bank, "behruz")
    account_id = bank.accounts_of("behruz")[1].id
    before = await _listing(blocky, headers, account_id)
    balance = await _booked_balance(blocky, headers, account_id)
    booked = [t for t in before if t["details"]["new_balance"] is not None]
    gone = [booked[2], booked[len(booked) // 2], booked[-1]]

    for item in gone:
        response = await blocky.post(
            "/sandbox/admin/remove-booked",
            json={"account_id": account_id, "transaction_id": item["id"]},
        )
        assert response.status_code == 200, response.text

    after = await _listing(blocky, headers, account_id)
    removed_sum = sum(_minor(t["details"]["value"]["amount"]) for t in gone)
    new_balance = await _booked_balance(blocky, headers, account_id)
    assert [t["id"] for t in after] == [t["id"] for t in before if t not in gone]
    assert new_balance == balance - removed_sum
    _assert_chain(after, new_balance)
    assert bank.count_transactions(account_id) == len(before) - 3
    for item in gone:
        expect_error(await _one(blocky, headers, account_id, item["id"]), 400, "OBP-30067")
    again = await blocky.post(
        "/sandbox/admin/remove-booked",
        json={"account_id": account_id, "transaction_id": gone[0]["id"]},
    )
    expect_error(again, 400, "OBP-30067")
    revisions = (await blocky.get(f"/sandbox/admin/revisions/{account_id}")).json()["revisions"]
    assert [(r["transaction_id"], r["kind"], r["after"]) for r in revisions] == [
        (t["id"], "REMOVED", None) for t in gone
    ]


async def test_changes_compose_with_transfers_and_new_rows(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    source, target = (a.id for a in bank.accounts_of("dilnoza"))
    debit, _ = bank.own_transfer(source, target, 1000)
    bank.add_transactions(source, 3)
    bank.change_booked(source, debit.id, amount_minor=-400)
    first = bank.iter_transactions(source).__next__()
    bank.remove_booked(source, first.id)
    bank.add_transactions(source, 2)

    items = await _listing(client, headers, source)
    balance = await _booked_balance(client, headers, source)

    _assert_chain(items, balance)
    assert balance == bank.booked_balance_minor(source)
    assert [t["id"] for t in items] == [t.id for t in bank.iter_transactions(source)]
    assert len(items) == bank.count_transactions(source)
    assert bank.find_transaction(source, debit.id) is not None
    assert bank.find_transaction(source, first.id) is None


async def test_changing_stays_lazy_in_a_long_history(clock: FakeClock) -> None:
    config = SandboxConfig(
        seed=3, customers=1, transactions_per_account=200_000, as_of=AS_OF, clock=clock
    )
    app = create_app(config)
    bank: SandboxBank = app.state.bank
    account_id = bank.accounts_of(bank.customers[0].username)[0].id
    history = bank.history(account_id)
    early = history.slice(10, 11)[0]
    booked_before = bank.booked_balance_minor(account_id)

    bank.change_booked(account_id, early.id, amount_minor=early.amount_minor + 99)
    bank.remove_booked(account_id, history.slice(150_000, 150_001)[0].id)
    blocks = bank.generated_blocks
    page = history.slice(120_000, 120_050)
    newest_booked = [
        t for t in history.slice(len(history) - 20, len(history)) if t.new_balance_minor
    ]

    assert len(page) == 50 and len(history) == 199_999
    assert bank.generated_blocks - blocks <= 6
    removed = history.inner.slice(150_000, 150_001)[0].amount_minor
    assert bank.booked_balance_minor(account_id) == booked_before + 99 - removed
    assert newest_booked[-1].new_balance_minor == bank.booked_balance_minor(account_id)
    for before, after in pairwise(page):
        assert before.new_balance_minor is not None
        assert after.new_balance_minor == before.new_balance_minor + after.amount_minor


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount_minor": 1}, 400, "OBP-10001"),
        ({"account_id": "nope", "transaction_id": "x", "amount_minor": 1}, 404, "OBP-30018"),
        ({"transaction_id": "unknown", "amount_minor": 1}, 400, "OBP-30067"),
        ({"transaction_id": "PENDING", "amount_minor": 1}, 400, "OBP-10001"),
        ({"transaction_id": "BOOKED"}, 400, "OBP-10001"),
        ({"transaction_id": "BOOKED", "amount_minor": "1"}, 400, "OBP-10001"),
        ({"transaction_id": "BOOKED", "posted": "2025-06-01T10:00:00"}, 400, "OBP-10001"),
        ({"transaction_id": "BOOKED", "counterparty": {"account": "1"}}, 400, "OBP-10001"),
    ],
)
async def test_change_booked_validates(
    client: httpx.AsyncClient, bank: SandboxBank, body: dict[str, Any], status: int, code: str
) -> None:
    account_id = bank.accounts_of("dilnoza")[1].id
    pending = bank.pending_transactions(account_id)[0].id
    booked = next(iter(bank.iter_transactions(account_id))).id
    ids = {"PENDING": pending, "BOOKED": booked}
    body = {"account_id": account_id, **body}
    if "transaction_id" in body:
        body["transaction_id"] = ids.get(body["transaction_id"], body["transaction_id"])

    response = await client.post("/sandbox/admin/change-booked", json=body)

    expect_error(response, status, code)
    assert bank.revisions_of(account_id) == []


# --- pending rows booked later, unlinked ------------------------------------------------------


async def test_one_pending_row_booked_weeks_later_others_stay_pending(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    account_id = bank.accounts_of("dilnoza")[1].id
    first, second = bank.pending_transactions(account_id)
    available = bank.available_balance_minor(account_id)
    clock.advance(21 * 24 * 3600)

    response = await client.post(
        "/sandbox/admin/book-pending",
        json={"account_id": account_id, "transaction_ids": [second.id]},
    )

    (booked,) = response.json()["booked"]
    assert booked["pending_transaction_id"] == second.id
    assert [t.id for t in bank.pending_transactions(account_id)] == [first.id]
    headers = await login()
    items = await _listing(client, headers, account_id)
    balance = await _booked_balance(client, headers, account_id)
    _assert_chain(items, balance)
    newest = items[-1]
    assert newest["id"] == booked["transaction_id"]
    assert newest["details"]["posted"] == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _attributes(newest)["PENDING_TRANSACTION_ID"] == second.id
    assert _attributes(newest)["STATUS"] == "BOOKED"
    assert second.id not in {t["id"] for t in items}
    assert bank.available_balance_minor(account_id) == available + max(0, second.amount_minor)

    rest = await client.post("/sandbox/admin/book-pending", json={"account_id": account_id})

    assert [b["pending_transaction_id"] for b in rest.json()["booked"]] == [first.id]
    assert bank.pending_transactions(account_id) == []
    items = await _listing(client, headers, account_id)
    _assert_chain(items, await _booked_balance(client, headers, account_id))
    assert len(items) == bank.count_transactions(account_id)


async def test_partial_booking_completes_a_transfer_once_all_its_rows_are_booked(
    bank: SandboxBank,
) -> None:
    business_usd = bank.accounts_of("farrukh")[1].id
    waiting = next(t for t in bank.transfers_of(business_usd) if t.status == "PENDING")
    rows = list(waiting.transaction_ids)

    bank.book_pending(business_usd, rows[:1])
    halfway = {t.id: t for t in bank.transfers_of(business_usd)}[waiting.id]
    bank.book_pending(business_usd, rows[1:])
    done = {t.id: t for t in bank.transfers_of(business_usd)}[waiting.id]

    assert halfway.status == ("PENDING" if len(rows) > 1 else "COMPLETED")
    assert done.status == "COMPLETED" and done.history[-1].status == "COMPLETED"
    assert all(bank.find_transaction(business_usd, i) is not None for i in done.transaction_ids)
    assert not set(done.transaction_ids) & set(rows)


@pytest.mark.parametrize("subset", [False, True])
async def test_unlinked_pending_books_without_naming_the_pending_row(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank, subset: bool
) -> None:
    _faults(app).unlinked_pending = True
    account_id = bank.accounts_of("dilnoza")[1].id
    pending = bank.pending_transactions(account_id)
    body: dict[str, Any] = {"account_id": account_id}
    if subset:
        body["transaction_ids"] = [pending[0].id]

    booked = (await client.post("/sandbox/admin/book-pending", json=body)).json()["booked"]
    _faults(app).unlinked_pending = False
    other = bank.add_transactions(account_id, 1)[0]

    headers = await login()
    for item in booked:
        served = (await _one(client, headers, account_id, item["transaction_id"])).json()
        assert "PENDING_TRANSACTION_ID" not in _attributes(served)
        assert _attributes(served)["STATUS"] == "BOOKED"
    assert other.attribute("PENDING_TRANSACTION_ID") is None
    assert len(booked) == (1 if subset else len(pending))


async def test_book_pending_validates_the_subset(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    account_id = bank.accounts_of("dilnoza")[1].id
    booked = next(iter(bank.iter_transactions(account_id))).id
    for body in (
        {"account_id": account_id, "transaction_ids": [booked]},
        {"account_id": account_id, "transaction_ids": "all"},
        {"transaction_ids": [bank.pending_transactions(account_id)[0].id]},
    ):
        expect_error(await client.post("/sandbox/admin/book-pending", json=body), 400, "OBP-10001")
    assert len(bank.pending_transactions(account_id)) == 2


# --- refused logins ---------------------------------------------------------------------------


async def test_refused_logins_answer_20004_and_are_counted(
    client: httpx.AsyncClient, app: Starlette, bank: SandboxBank
) -> None:
    credentials = f'username="dilnoza", password="dilnoza-pass", consumer_key="{bank.consumer_key}"'
    _faults(app).refuse_logins = True

    refused = [
        await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
        for _ in range(3)
    ]
    counted = (await client.get("/sandbox/admin/logins")).json()
    _faults(app).refuse_logins = False
    accepted = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})

    for response in refused:
        expect_error(response, 401, "OBP-20004")
    assert counted == {"login_attempts": 3}
    assert accepted.status_code == 201
    assert bank.login_attempts == 4


# --- non-owner views --------------------------------------------------------------------------


async def test_shared_view_is_the_only_view_on_that_account(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank
) -> None:
    headers = await login("farrukh")
    shared, own = (a.id for a in bank.accounts_of("farrukh"))
    through_owner = await _listing(client, headers, shared)
    _faults(app).shared_views = {shared: "accountant"}

    accounts = (await client.get(f"{API}/my/accounts", headers=headers)).json()["accounts"]
    views = {a["id"]: a["views"] for a in accounts}
    assert views[shared] == [
        {
            "id": "accountant",
            "short_name": "Accountant",
            "description": "accountant",
            "is_public": False,
        }
    ]
    assert [v["id"] for v in views[own]] == ["owner"]
    for path in (
        transactions_path(shared),
        f"{account_path(shared)}/views/owner",
        f"{account_path(shared)}/views/owner/balances",
        f"{transactions_path(shared)}/{through_owner[0]['id']}/transaction",
        f"{account_path(shared)}/owner/transaction-requests",
    ):
        expect_error(await client.get(path, headers=headers), 403, "OBP-20017")
    assert await _listing(client, headers, shared, "accountant") == through_owner
    core = await client.get(f"{account_path(shared)}/views/accountant", headers=headers)
    assert core.json()["views_basic"] == ["accountant"]
    balances = await client.get(
        f"{account_path(shared)}/views/accountant/balances", headers=headers
    )
    assert balances.status_code == 200
    expect_error(
        await client.get(transactions_path(own, "accountant"), headers=headers), 403, "OBP-20017"
    )
    assert (await client.get(transactions_path(own), headers=headers)).status_code == 200


async def test_account_views_are_listed_for_the_owner_view_only(
    client: httpx.AsyncClient, login: Login, app: Starlette, bank: SandboxBank
) -> None:
    headers = await login()
    shared, own = (a.id for a in bank.accounts_of("dilnoza"))
    _faults(app).shared_views = {shared: "auditor"}

    listed = await client.get(f"{account_path(own)}/views", headers=headers)
    refused = await client.get(f"{account_path(shared)}/views", headers=headers)
    foreign = await client.get(
        f"{account_path(bank.accounts_of('behruz')[0].id)}/views", headers=headers
    )

    assert listed.status_code == 200
    (view,) = listed.json()["views"]
    assert view["id"] == "owner" and view["can_see_transaction_amount"] is True
    expect_error(refused, 400, "OBP-20022")
    expect_error(foreign, 404, "OBP-30018")


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"shared_transfer_ids": 1}, "shared_transfer_ids must be a boolean"),
        ({"unlinked_pending": "yes"}, "unlinked_pending must be a boolean"),
        ({"refuse_logins": None}, "refuse_logins must be a boolean"),
        ({"hidden_dates": "abc"}, "hidden_dates must be a list"),
        ({"hidden_dates": [""]}, "hidden_dates must be a list"),
        ({"max_length_fields": [1]}, "max_length_fields must be a list"),
        ({"bare_nan_records": {"a": 1}}, "bare_nan_records must be a list"),
        ({"shared_views": ["a"]}, "shared_views must map"),
        ({"shared_views": {"a": "owner"}}, "shared_views must map"),
        ({"shared_views": {"a": ""}}, "shared_views must map"),
        ({"shared_views": {"a": 5}}, "shared_views must map"),
    ],
)
async def test_record_knobs_are_validated(
    client: httpx.AsyncClient, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FaultConfig.from_json(settings)
    response = await client.put("/sandbox/admin/faults", json=settings)
    expect_error(response, 400, "OBP-10001")
    assert message in response.json()["message"]


async def test_record_knobs_round_trip_through_the_admin_api(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    settings = {
        "shared_transfer_ids": True,
        "hidden_dates": ["a"],
        "max_length_fields": ["b"],
        "bare_nan_records": ["c"],
        "unlinked_pending": True,
        "refuse_logins": True,
        "shared_views": {"acc": "accountant"},
    }

    response = await client.put("/sandbox/admin/faults", json=settings)

    assert response.status_code == 200
    assert {k: response.json()[k] for k in settings} == settings
    assert {k: getattr(_faults(app), k) for k in settings} == settings
    assert _faults(app) is app.state.bank.config.faults


def test_bank_keys_rows_per_account(bank: SandboxBank) -> None:
    rows = bank.rows_by_key("dilnoza")
    accounts = {a.id for a in bank.accounts_of("dilnoza")}
    assert {account for account, _ in rows} == accounts
    assert len(rows) == sum(bank.count_transactions(a) for a in accounts)
    assert all(t.account_id == account and t.id == tid for (account, tid), t in rows.items())
