"""Transfer paging: a page of transaction requests costs its own blocks, not the history,
and answers exactly what slicing the full newest-first list would."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from connectors.sandbox import SandboxBank, SandboxConfig, create_app
from connectors.sandbox.models import Transfer

from .sandbox_support import API, AS_OF, BANK, FakeClock

LONG = 50_000  # 50 blocks of 1,000 transactions, some 6,000 transfers


def _config(clock: FakeClock) -> SandboxConfig:
    return SandboxConfig(
        seed=5, customers=1, transactions_per_account=LONG, as_of=AS_OF, clock=clock
    )


def _account(bank: SandboxBank) -> str:
    return bank.accounts_of(bank.customers[0].username)[0].id


def _ids(transfers: list[Transfer]) -> list[str]:
    return [t.id for t in transfers]


@pytest.fixture(scope="module")
def full() -> list[Transfer]:
    """The reference: every transfer of the first account, walked newest first."""
    truth = SandboxBank(_config(FakeClock(AS_OF)))
    return truth.transfers_of(_account(truth))


def test_deep_pages_equal_slices_of_the_full_list(clock: FakeClock, full: list[Transfer]) -> None:
    bank = SandboxBank(_config(clock))  # a fresh bank: nothing generated, no counts known
    account_id = _account(bank)
    assert len(full) > 5_000

    end = len(full)
    for offset in (end - 1_000, 3_001, 0, 1, 2_500, end - 1, end, end + 7):
        for limit in (1, 7, 1_000):
            page = bank.transfers_page(account_id, offset, limit)
            assert page == full[offset : offset + limit], (offset, limit)
    for offset in (end - 1_500, end + 7):  # unpaged: everything from the offset on
        assert bank.transfers_page(account_id, offset, None) == full[offset:]


def test_a_first_page_generates_a_block_or_two(clock: FakeClock) -> None:
    bank = SandboxBank(_config(clock))
    account_id = _account(bank)

    page = bank.transfers_page(account_id, 0, 50)

    assert len(page) == 50
    assert bank.generated_blocks <= 2


def test_a_sequential_pager_generates_each_block_once(
    clock: FakeClock, full: list[Transfer]
) -> None:
    bank = SandboxBank(_config(clock))
    account_id = _account(bank)

    walked: list[Transfer] = []
    while page := bank.transfers_page(account_id, len(walked), 1_000):
        walked.extend(page)

    assert walked == full
    assert bank.generated_blocks == bank.history(account_id).generator.block_count


def test_counts_outlive_the_block_cache(clock: FakeClock, full: list[Transfer]) -> None:
    """A jump deep in must learn every newer block's count once; after that, pages
    anywhere cost only their own blocks, though most blocks left the cache long ago."""
    bank = SandboxBank(_config(clock))
    account_id = _account(bank)

    assert bank.transfers_page(account_id, len(full) - 10, 10) == full[-10:]
    learned = bank.generated_blocks
    middle = len(full) // 2
    assert bank.transfers_page(account_id, middle, 100) == full[middle : middle + 100]
    assert bank.generated_blocks - learned <= 2


def test_blocks_seen_through_transactions_count_too(clock: FakeClock) -> None:
    """A block generated for a transactions page records its transfer count, so the
    transfer pager need not generate it again just to count."""
    bank = SandboxBank(replace(_config(clock), block_size=100))
    account_id = _account(bank)
    history = bank.history(account_id)
    for block in range(history.generator.block_count):
        history.slice(*history.generator.block_bounds(block))
    seen = bank.generated_blocks

    deep = bank.transfers_page(account_id, 4_000, 1)

    assert len(deep) == 1
    assert bank.generated_blocks - seen <= 1  # the transfer's own block, no counting


def test_blocks_without_transfers_are_skipped(clock: FakeClock) -> None:
    # Blocks of two transactions: most hold no transfer, some hold one or two.
    bank = SandboxBank(replace(_config(clock), transactions_per_account=600, block_size=2))
    account_id = _account(bank)
    full = bank.transfers_of(account_id)

    for offset in range(len(full) + 2):
        assert bank.transfers_page(account_id, offset, 3) == full[offset : offset + 3]


def test_pages_follow_the_admin_hooks(clock: FakeClock) -> None:
    """Appending and booking change the tail: pages see it, as a fresh walk does."""
    # Seed 3's first account has a pending transfer in its last days.
    config = replace(_config(clock), seed=3, transactions_per_account=3_000, block_size=64)
    bank = SandboxBank(config)
    account_id = _account(bank)
    assert bank.transfers_page(account_id, 0, 1)[0].status == "PENDING"  # sorts the tail

    def check() -> None:
        full = bank.transfers_of(account_id)
        for offset in (0, 3, len(full) // 2, len(full) - 5):
            assert bank.transfers_page(account_id, offset, 25) == full[offset : offset + 25]

    clock.advance(3_600)
    bank.add_transactions(account_id, 400)
    check()
    clock.advance(3_600)
    bank.book_pending()
    check()
    assert "PENDING" not in {t.status for t in bank.transfers_page(account_id, 0, 1_000)}


@pytest.fixture
def long_app(clock: FakeClock) -> Starlette:
    return create_app(_config(clock))


async def test_http_pages_match_the_truth(long_app: Starlette, full: list[Transfer]) -> None:
    bank: SandboxBank = long_app.state.bank
    customer = bank.customers[0]
    account_id = _account(bank)
    path = f"{API}/banks/{BANK}/accounts/{account_id}/owner/transaction-requests"
    transport = httpx.ASGITransport(app=long_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        credentials = (
            f'username="{customer.username}", password="{customer.password}", '
            f'consumer_key="{bank.consumer_key}"'
        )
        login = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
        headers = {"DirectLogin": f'token="{login.json()["token"]}"'}
        first = await client.get(path, headers=headers, params={"limit": 50})
        assert bank.generated_blocks <= 2
        deep = await client.get(path, headers=headers, params={"limit": 1000, "offset": 4_000})

    assert [i["id"] for i in first.json()["transaction_requests_with_charges"]] == _ids(full[:50])
    deep_ids = [i["id"] for i in deep.json()["transaction_requests_with_charges"]]
    assert deep_ids == _ids(full[4_000:5_000])
