"""Lazy generation: a page deep in a million-transaction account costs a block, not N."""

from __future__ import annotations

from itertools import pairwise

import httpx
import pytest
from starlette.applications import Starlette

from connectors.sandbox import SandboxBank, SandboxConfig, create_app

from .sandbox_support import AS_OF, FakeClock, transactions_path

MILLION = 1_000_000


@pytest.fixture
def big_app(clock: FakeClock) -> Starlette:
    config = SandboxConfig(
        seed=3, customers=1, transactions_per_account=MILLION, as_of=AS_OF, clock=clock
    )
    return create_app(config)


async def _page(app: Starlette, account_id: str, **params: object) -> list[dict[str, object]]:
    bank: SandboxBank = app.state.bank
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        credentials = (
            f'username="{bank.customers[0].username}", '
            f'password="{bank.customers[0].password}", consumer_key="{bank.consumer_key}"'
        )
        login = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
        headers = {"DirectLogin": f'token="{login.json()["token"]}"'}
        response = await client.get(transactions_path(account_id), headers=headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["transactions"]
    return items


async def test_deep_pages_generate_one_or_two_blocks(big_app: Starlette) -> None:
    bank: SandboxBank = big_app.state.bank
    account_id = bank.accounts_of(bank.customers[0].username)[1].id
    assert bank.count_transactions(account_id) == MILLION
    assert bank.generated_blocks == 0

    ascending = await _page(big_app, account_id, offset=999_000, limit=50, sort_direction="ASC")
    after_asc = bank.generated_blocks
    descending = await _page(big_app, account_id, offset=999_000, limit=50)

    assert len(ascending) == len(descending) == 50
    assert after_asc <= 2
    assert bank.generated_blocks - after_asc <= 2
    history = bank.history(account_id)
    assert [t["id"] for t in ascending] == [t.id for t in history.slice(999_000, 999_050)]
    assert [t["id"] for t in descending] == [t.id for t in history.slice(950, 1_000)][::-1]


async def test_date_filter_and_lookup_stay_lazy(big_app: Starlette) -> None:
    bank: SandboxBank = big_app.state.bank
    account_id = bank.accounts_of(bank.customers[0].username)[0].id
    history = bank.history(account_id)

    middle = history.slice(500_000, 500_001)[0]
    since = middle.posted.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    page = await _page(big_app, account_id, from_date=since, sort_direction="ASC", limit=5)
    found = history.find(history.slice(731_337, 731_338)[0].id)

    assert page[0]["id"] == middle.id
    assert found is not None
    assert history.find(found.id[:-1] + ("0" if found.id[-1] != "0" else "1")) is None
    assert bank.generated_blocks <= 5


def test_balances_chain_across_block_boundaries(clock: FakeClock) -> None:
    config = SandboxConfig(
        seed=9, customers=3, transactions_per_account=700, block_size=64, as_of=AS_OF, clock=clock
    )
    bank = SandboxBank(config)

    for customer in bank.customers:
        for account in bank.accounts_of(customer.username):
            items = list(bank.iter_transactions(account.id))
            booked = [t for t in items if t.new_balance_minor is not None]
            assert len(items) == 700
            assert all(a.posted < b.posted for a, b in pairwise(items))
            for before, after in pairwise(booked):
                assert before.new_balance_minor is not None
                assert after.new_balance_minor == before.new_balance_minor + after.amount_minor
                assert after.new_balance_minor >= 0
            assert booked[-1].new_balance_minor == bank.booked_balance_minor(account.id)


@pytest.mark.parametrize("count", [0, 1, 3, 10])
def test_exact_small_counts(clock: FakeClock, count: int) -> None:
    bank = SandboxBank(SandboxConfig(transactions_per_account=count, as_of=AS_OF, clock=clock))

    for customer in bank.customers:
        for account in bank.accounts_of(customer.username):
            assert bank.count_transactions(account.id) == count
            assert len(list(bank.iter_transactions(account.id))) == count
