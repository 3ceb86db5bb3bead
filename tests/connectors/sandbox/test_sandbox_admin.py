"""Sandbox-only hooks: booking pending transactions, new transactions, SCA codes."""

from __future__ import annotations

from itertools import pairwise

import httpx

from connectors.sandbox import SandboxBank

from .sandbox_support import FakeClock, Login, expect_error, transactions_path


def _chain_is_exact(bank: SandboxBank, account_id: str) -> None:
    booked = [t for t in bank.iter_transactions(account_id) if t.new_balance_minor is not None]
    for before, after in pairwise(booked):
        assert before.new_balance_minor is not None
        assert after.new_balance_minor == before.new_balance_minor + after.amount_minor
        assert after.new_balance_minor >= 0
    assert booked[-1].new_balance_minor == bank.booked_balance_minor(account_id)


async def test_book_pending_books_under_new_ids(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    account_id = bank.accounts_of("dilnoza")[1].id
    pending = bank.pending_transactions(account_id)
    count = bank.count_transactions(account_id)
    expected = bank.booked_balance_minor(account_id) + sum(t.amount_minor for t in pending)
    assert pending

    response = await client.post("/sandbox/admin/book-pending", json={"account_id": account_id})

    booked = response.json()["booked"]
    assert [b["pending_transaction_id"] for b in booked] == [t.id for t in pending]
    assert bank.pending_transactions(account_id) == []
    assert bank.count_transactions(account_id) == count
    assert bank.booked_balance_minor(account_id) == expected
    _chain_is_exact(bank, account_id)
    for item, old in zip(booked, pending, strict=True):
        new = bank.find_transaction(account_id, item["transaction_id"])
        assert new is not None and new.id != old.id
        assert new.status == "BOOKED" and new.attribute("STATUS") == "BOOKED"
        assert new.attribute("PENDING_TRANSACTION_ID") == old.id
        assert new.amount_minor == old.amount_minor
        assert new.posted >= clock.now.replace(microsecond=0)
        assert bank.find_transaction(account_id, old.id) is None
    headers = await login()
    gone = await client.get(
        f"{transactions_path(account_id)}/{pending[0].id}/transaction", headers=headers
    )
    expect_error(gone, 400, "OBP-30067")
    newest = await client.get(transactions_path(account_id), headers=headers)
    attributes = {
        a["name"]: a["value"] for a in newest.json()["transactions"][0]["transaction_attributes"]
    }
    assert attributes["PENDING_TRANSACTION_ID"] == pending[-1].id


async def test_booking_completes_pending_transfers(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    business_usd = bank.accounts_of("farrukh")[1].id
    waiting = [t for t in bank.transfers_of(business_usd) if t.status == "PENDING"]
    assert waiting

    booked = (await client.post("/sandbox/admin/book-pending", json={})).json()["booked"]

    renamed = {b["pending_transaction_id"]: b["transaction_id"] for b in booked}
    after = {t.id: t for t in bank.transfers_of(business_usd)}
    for transfer in waiting:
        done = after[transfer.id]
        assert done.status == "COMPLETED"
        assert done.history[-1].status == "COMPLETED"
        assert done.transaction_ids == tuple(renamed[i] for i in transfer.transaction_ids)
    for customer in bank.customers:
        for account in bank.accounts_of(customer.username):
            assert bank.pending_transactions(account.id) == []
            _chain_is_exact(bank, account.id)


async def test_add_transactions_appends_dated_now(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    account_id = bank.accounts_of("behruz")[0].id
    count = bank.count_transactions(account_id)

    response = await client.post(
        "/sandbox/admin/add-transactions", json={"account_id": account_id, "count": 25}
    )

    ids = response.json()["transaction_ids"]
    assert response.status_code == 201 and len(ids) == 25
    assert bank.count_transactions(account_id) == count + 25
    everything = list(bank.iter_transactions(account_id))
    assert [t.id for t in everything[-25:]] == ids
    assert all(t.posted >= clock.now.replace(microsecond=0) for t in everything[-25:])
    assert all(t.status == "BOOKED" for t in everything[-25:])
    _chain_is_exact(bank, account_id)
    newest = await client.get(
        transactions_path(account_id), headers=await login("behruz"), params={"limit": 25}
    )
    assert [t["id"] for t in newest.json()["transactions"]] == ids[::-1]


async def test_admin_input_errors(client: httpx.AsyncClient, bank: SandboxBank) -> None:
    unknown_consent = await client.get(
        "/sandbox/admin/sca-codes/0f8fad5b-d9cb-469f-a165-70867728950e"
    )
    unknown_account = await client.post(
        "/sandbox/admin/add-transactions", json={"account_id": "nope", "count": 1}
    )
    bad_count = await client.post(
        "/sandbox/admin/add-transactions",
        json={"account_id": bank.accounts_of("dilnoza")[0].id, "count": "many"},
    )
    bad_json = await client.post("/sandbox/admin/book-pending", content=b"{")

    expect_error(unknown_consent, 404, "OBP-35001")
    expect_error(unknown_account, 404, "OBP-30018")
    expect_error(bad_count, 400, "OBP-10001")
    expect_error(bad_json, 400, "OBP-10001")


async def test_customers_listing(client: httpx.AsyncClient, bank: SandboxBank) -> None:
    response = await client.get("/sandbox/admin/customers")

    body = response.json()
    assert body["consumer_key"] == bank.consumer_key
    assert [(c["username"], c["password"]) for c in body["customers"]] == [
        ("dilnoza", "dilnoza-pass"),
        ("farrukh", "farrukh-pass"),
        ("behruz", "behruz-pass"),
    ]
    assert body["customers"][1]["accounts"][1]["currency"] == "USD"
