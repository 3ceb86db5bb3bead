"""Every fault knob, observed from the client side."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from connectors.sandbox import FaultConfig, SandboxBank, SandboxConfig, create_app
from connectors.sandbox.faults import FaultInjector

from .sandbox_support import API, AS_OF, FakeClock, Login, expect_error, transactions_path


@pytest.fixture
def faults(app: Starlette) -> FaultInjector:
    injector: FaultInjector = app.state.faults
    return injector


def _account(bank: SandboxBank) -> str:
    return bank.accounts_of("dilnoza")[1].id


async def test_rate_limit_per_consumer_per_minute(
    client: httpx.AsyncClient, login: Login, faults: FaultInjector, clock: FakeClock
) -> None:
    headers = await login()
    faults.config.rate_limit_per_minute = 3

    allowed = [await client.get(f"{API}/my/accounts", headers=headers) for _ in range(3)]
    limited = await client.get(f"{API}/my/accounts", headers=headers)
    clock.advance(60)
    later = await client.get(f"{API}/my/accounts", headers=headers)

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert [r.headers["x-rate-limit-remaining"] for r in allowed] == ["2", "1", "0"]
    expect_error(limited, 429, "OBP-10018")
    assert "3 requests per minute for this Consumer" in limited.json()["message"]
    assert limited.headers["x-rate-limit-limit"] == "3"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    assert limited.headers["retry-after"] == limited.headers["x-rate-limit-reset"]
    assert later.status_code == 200


async def test_fail_next_is_deterministic_and_spares_login_and_admin(
    client: httpx.AsyncClient, login: Login, faults: FaultInjector
) -> None:
    faults.config.fail_next = 2
    headers = await login()
    admin = await client.get("/sandbox/admin/faults")

    first = await client.get(f"{API}/my/accounts", headers=headers)
    second = await client.get(f"{API}/banks")
    third = await client.get(f"{API}/my/accounts", headers=headers)

    assert admin.status_code == 200
    expect_error(first, 503, "OBP-50000")
    expect_error(second, 503, "OBP-50000")
    assert third.status_code == 200


async def test_error_rate_is_seeded(clock: FakeClock) -> None:
    async def statuses() -> list[int]:
        config = SandboxConfig(
            as_of=AS_OF, clock=clock, faults=FaultConfig(error_rate=0.5, rng_seed=11)
        )
        transport = httpx.ASGITransport(app=create_app(config))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return [(await client.get(f"{API}/banks")).status_code for _ in range(30)]

    first, second = await statuses(), await statuses()

    assert first == second
    assert {200, 500, 503} == set(first)


async def test_latency_and_timeouts(client: httpx.AsyncClient, faults: FaultInjector) -> None:
    faults.config.timeout_rate = 1.0
    faults.config.timeout_seconds = 0.3
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.get(f"{API}/banks"), timeout=0.05)

    faults.configure(FaultConfig(latency_ms=150))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.get(f"{API}/banks"), timeout=0.05)
    slow_but_fine = await asyncio.wait_for(client.get(f"{API}/banks"), timeout=2)
    assert slow_but_fine.status_code == 200


async def test_malformed_page_heals(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    headers = {**await login(), "obp_limit": "50"}
    path = transactions_path(_account(bank))
    faults.config.malformed_offsets = [50]
    faults.config.malformed_times = 2

    untouched = await client.get(path, headers={**headers, "obp_offset": "0"})
    broken = [await client.get(path, headers={**headers, "obp_offset": "50"}) for _ in range(2)]
    healed = await client.get(path, headers={**headers, "obp_offset": "50"})

    assert orjson.loads(untouched.content)["transactions"]
    for response in broken:
        assert response.status_code == 200
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)
    assert len(healed.json()["transactions"]) == 50


async def test_malformed_amounts_persist(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _account(bank)
    victim = list(bank.iter_transactions(account_id))[-3]
    faults.config.malformed_records = {victim.id: "1e309"}
    headers = await login()

    for _ in range(2):
        page = await client.get(transactions_path(account_id), headers=headers)
        amounts = {t["id"]: t["details"]["value"]["amount"] for t in page.json()["transactions"]}
        assert amounts[victim.id] == "1e309"
    one = await client.get(
        f"{transactions_path(account_id)}/{victim.id}/transaction", headers=headers
    )
    assert one.json()["details"]["value"]["amount"] == "1e309"


async def test_duplicate_page_once(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    path = transactions_path(_account(bank))
    headers = {**await login(), "obp_limit": "20"}
    faults.config.duplicate_page = True

    first = await client.get(path, headers={**headers, "obp_offset": "0"})
    repeated = await client.get(path, headers={**headers, "obp_offset": "20"})
    again = await client.get(path, headers={**headers, "obp_offset": "20"})

    assert repeated.json() == first.json()
    assert again.json() != first.json()
    assert faults.config.duplicate_page is False


async def test_tokens_wear_out(
    client: httpx.AsyncClient, login: Login, faults: FaultInjector
) -> None:
    faults.config.expire_tokens_after = 2
    headers = await login()

    used = [await client.get(f"{API}/my/accounts", headers=headers) for _ in range(2)]
    worn = await client.get(f"{API}/my/accounts", headers=headers)
    fresh = await client.get(f"{API}/my/accounts", headers=await login())

    assert [r.status_code for r in used] == [200, 200]
    expect_error(worn, 401, "OBP-20003")
    assert fresh.status_code == 200


async def test_faults_over_the_admin_api(client: httpx.AsyncClient, faults: FaultInjector) -> None:
    put = await client.put("/sandbox/admin/faults", json={"fail_next": 1, "latency_ms": 0})
    failed = await client.get(f"{API}/banks")
    current = await client.get("/sandbox/admin/faults")
    rejected = await client.put("/sandbox/admin/faults", json={"no_such_knob": 1})
    out_of_range = await client.put("/sandbox/admin/faults", json={"error_rate": 2})

    assert put.status_code == 200
    expect_error(failed, 503, "OBP-50000")
    assert current.json()["fail_next"] == 0
    assert current.json() == FaultConfig().to_json()
    expect_error(rejected, 400, "OBP-10001")
    expect_error(out_of_range, 400, "OBP-10001")
    assert faults.config == FaultConfig()


async def test_the_configured_fault_object_is_live(
    client: httpx.AsyncClient, app: Starlette, faults: FaultInjector
) -> None:
    live = app.state.bank.config.faults
    assert faults.config is live

    live.fail_next = 1
    failed = await client.get(f"{API}/banks")
    await client.put("/sandbox/admin/faults", json={"fail_next": 2})

    expect_error(failed, 503, "OBP-50000")
    assert live.fail_next == 2
