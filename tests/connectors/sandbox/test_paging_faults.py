"""The paging faults (issue 10), observed over HTTP: each knob does exactly what it says,
and the truth API states what a complete sync must end up with."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from connectors.sandbox import FaultConfig, SandboxBank, SandboxConfig, create_app
from connectors.sandbox.faults import FaultInjector

from .sandbox_support import (
    API,
    AS_OF,
    BANK,
    FakeClock,
    Login,
    expect_error,
    transactions_path,
)

Item = dict[str, Any]
IMF_FIXDATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


@pytest.fixture
def faults(app: Starlette) -> FaultInjector:
    injector: FaultInjector = app.state.faults
    return injector


@dataclass
class Dense:
    """A bank with tens of rows a day, so a date-only bank has real tie groups."""

    client: httpx.AsyncClient
    bank: SandboxBank
    faults: FaultInjector
    headers: dict[str, str]


@pytest.fixture
async def dense(clock: FakeClock) -> AsyncIterator[Dense]:
    config = SandboxConfig(as_of=AS_OF, clock=clock, months=3, transactions_per_account=3000)
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        headers = await _log_in(client, app.state.bank, "dilnoza")
        yield Dense(client, app.state.bank, app.state.faults, headers)


def _card(bank: SandboxBank) -> str:
    return bank.accounts_of("dilnoza")[1].id


async def _page(
    client: httpx.AsyncClient,
    account_id: str,
    headers: dict[str, str],
    *,
    path: str | None = None,
    **params: Any,
) -> list[Item]:
    response = await client.get(
        path or transactions_path(account_id), headers=headers, params=params
    )
    assert response.status_code == 200, response.text
    items: list[Item] = response.json()["transactions"]
    return items


async def _read_all(
    client: httpx.AsyncClient,
    account_id: str,
    headers: dict[str, str],
    *,
    limit: int,
    direction: str,
    advance: int | None = None,
) -> list[list[Item]]:
    """Pages until an empty one, the offset moving by `advance` (default: what was served)."""
    pages: list[list[Item]] = []
    offset = 0
    while True:
        page = await _page(
            client, account_id, headers, limit=limit, offset=offset, sort_direction=direction
        )
        if not page:
            return pages
        pages.append(page)
        offset += len(page) if advance is None else advance


async def _log_in(client: httpx.AsyncClient, bank: SandboxBank, username: str) -> dict[str, str]:
    password = bank.customer(username).password
    credentials = (
        f'username="{username}", password="{password}", consumer_key="{bank.consumer_key}"'
    )
    token = await client.post("/my/logins/direct", headers={"DirectLogin": credentials})
    return {"DirectLogin": f'token="{token.json()["token"]}"'}


def _obp_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ids(items: list[Item]) -> list[str]:
    return [t["id"] for t in items]


def _flat(pages: list[list[Item]]) -> list[Item]:
    return [t for page in pages for t in page]


def _posted(item: Item) -> datetime:
    return datetime.fromisoformat(item["details"]["posted"])


def _minor(text: str) -> int:
    units, _, cents = text.lstrip("-").partition(".")
    value = int(units) * 100 + int(cents)
    return -value if text.startswith("-") else value


def _chain_holds(bank: SandboxBank, account_id: str) -> None:
    """Every booked new_balance is the previous booked one plus its amount, and the booked
    balance is the last of them."""
    booked = [r for r in bank.truth(account_id) if r.status == "BOOKED"]
    for before, after in pairwise(booked):
        assert before.new_balance_minor is not None
        assert after.new_balance_minor == before.new_balance_minor + after.amount_minor, after
    assert bank.booked_balance_minor(account_id) == booked[-1].new_balance_minor


# --- strip_underscore_headers ---------------------------------------------------------------


async def test_stripped_underscore_headers_leave_only_query_parameters(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    ascending = [r.id for r in bank.truth(account_id)]
    since = bank.truth(account_id)[40].posted.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    paging = {"limit": "4", "offset": "2", "sort_direction": "ASC", "from_date": since}
    prefixed = {f"obp_{k}": v for k, v in paging.items()}

    honoured = await _page(client, account_id, {**headers, **prefixed})
    faults.config.strip_underscore_headers = True
    stripped = await _page(client, account_id, {**headers, **prefixed})
    # Names without "_" pass the proxy; sort_direction and from_date cannot.
    unprefixed = await _page(client, account_id, {**headers, **paging})
    by_query = await _page(client, account_id, headers, **prefixed)

    assert _ids(honoured) == ascending[42:46]
    assert _ids(stripped) == ascending[::-1][:50]  # OBP's defaults: 50, newest first
    assert _ids(unprefixed) == ascending[::-1][2:6]
    assert _ids(by_query) == ascending[42:46]


# --- max_page_size --------------------------------------------------------------------------


@pytest.mark.parametrize("cap", [1, 7, 33])
async def test_page_size_cap_serves_at_most_cap_whatever_was_asked(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector, cap: int
) -> None:
    account_id = _card(bank)
    headers = await login()
    ascending = [r.id for r in bank.truth(account_id)]
    faults.config.max_page_size = cap

    sizes = {
        asked: len(await _page(client, account_id, headers, limit=asked))
        for asked in (1, cap, cap + 1, 500)
    }
    by_served = await _read_all(client, account_id, headers, limit=50, direction="ASC")
    by_asked = await _read_all(client, account_id, headers, limit=50, direction="ASC", advance=50)

    assert sizes == {1: 1, cap: cap, cap + 1: cap, 500: cap}
    assert _ids(_flat(by_served)) == ascending  # a reader moving by what it got sees all
    skipping = [i for o in range(0, len(ascending), 50) for i in ascending[o : o + cap]]
    assert _ids(_flat(by_asked)) == skipping  # one moving by what it asked loses rows
    assert len(skipping) < len(ascending)


# --- ignore_sort_direction ------------------------------------------------------------------


@pytest.mark.parametrize("asked", ["ASC", "DESC", None])
async def test_ignored_sort_direction_is_always_newest_first(
    client: httpx.AsyncClient,
    login: Login,
    bank: SandboxBank,
    faults: FaultInjector,
    asked: str | None,
) -> None:
    account_id = _card(bank)
    headers = await login()
    newest_first = [r.id for r in bank.truth(account_id)][::-1]
    faults.config.ignore_sort_direction = True
    direction = {} if asked is None else {"sort_direction": asked}

    page = await _page(client, account_id, headers, limit=10, offset=5, **direction)

    assert _ids(page) == newest_first[5:15]


# --- date_only ------------------------------------------------------------------------------


async def test_date_only_serves_midnights_and_filters_on_them(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    rows = list(bank.iter_transactions(account_id))
    days = sorted({r.posted.date() for r in rows})
    day = days[len(days) // 2]
    midday = datetime(day.year, day.month, day.day, 13, tzinfo=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    faults.config.date_only = True

    everything = _flat(await _read_all(client, account_id, headers, limit=50, direction="ASC"))
    # A row of `day` is served as its midnight: before 13:00, so from_date drops the day,
    # and at or before 00:00 of it, so to_date keeps the whole day.
    from_midday = await _page(client, account_id, headers, from_date=midday, limit=10_000)
    to_midnight = await _page(
        client, account_id, headers, to_date=f"{day.isoformat()}T00:00:00.000Z", limit=10_000
    )
    one = await client.get(
        f"{transactions_path(account_id)}/{rows[0].id}/transaction", headers=headers
    )

    assert _ids(everything) == [r.id for r in rows]
    for item, row in zip(everything, rows, strict=True):
        midnight = datetime(row.posted.year, row.posted.month, row.posted.day, tzinfo=UTC)
        assert _posted(item) == midnight
        completed = item["details"]["completed"]
        assert completed == (
            None if row.completed is None else midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    assert {_posted(t).date() for t in from_midday} == {d for d in days if d > day}
    assert len(from_midday) == sum(r.posted.date() > day for r in rows)
    assert len(to_midnight) == sum(r.posted.date() <= day for r in rows)
    assert _posted(one.json()) == datetime.combine(rows[0].posted.date(), datetime.min.time(), UTC)
    assert [r.posted for r in bank.truth(account_id)] == [_posted(t) for t in everything]


# --- unstable_ties --------------------------------------------------------------------------


def _days(items: list[Item]) -> list[datetime]:
    return [_posted(t) for t in items]


async def test_unstable_ties_reshuffle_equal_dates_on_every_request(dense: Dense) -> None:
    account_id = _card(dense.bank)
    dense.faults.config.date_only = True
    days = sorted({r.posted for r in dense.bank.truth(account_id)})
    # Whole days (a page cut inside a day would hold a different part of it each time).
    window = {"from_date": _obp_date(days[10]), "to_date": _obp_date(days[13])}

    async def page(direction: str) -> list[Item]:
        return await _page(
            dense.client, account_id, dense.headers, limit=1000, sort_direction=direction, **window
        )

    stable = [await page("ASC"), await page("ASC")]
    dense.faults.config.unstable_ties = True
    shuffled = [await page("ASC"), await page("ASC"), await page("DESC"), await page("DESC")]

    assert _ids(stable[0]) == _ids(stable[1])
    assert max(Counter(_days(stable[0])).values()) >= 10  # real tie groups
    for one in shuffled[:2]:
        assert sorted(_ids(one)) == sorted(_ids(stable[0]))  # the same set...
        assert _days(one) == _days(stable[0])  # ...ordered by day, ties in any order
    assert len({tuple(_ids(p)) for p in [*shuffled[:2], stable[0]]}) == 3
    assert _days(shuffled[2]) == sorted(_days(shuffled[2]), reverse=True)
    assert sorted(_ids(shuffled[2])) == sorted(_ids(shuffled[3]))
    assert _ids(shuffled[2]) != _ids(shuffled[3])


async def test_unstable_ties_shuffle_whole_groups_before_cutting_pages(dense: Dense) -> None:
    account_id = _card(dense.bank)
    dense.faults.config.date_only = True
    dense.faults.config.unstable_ties = True
    truth = dense.bank.truth(account_id)
    day = truth[1000].posted
    group = [r.id for r in truth if r.posted == day]
    first = next(i for i, r in enumerate(truth) if r.posted == day)

    pages = [
        await _page(
            dense.client,
            account_id,
            dense.headers,
            offset=first + 2,
            limit=3,
            sort_direction="ASC",
        )
        for _ in range(20)
    ]

    # Every page is three rows of that day, drawn from the whole day, not fixed slots.
    assert len(group) >= 10
    assert all(len(p) == 3 and set(_ids(p)) <= set(group) for p in pages)
    assert len({i for p in pages for i in _ids(p)}) > 3


async def test_unstable_ties_are_seeded_and_need_ties(clock: FakeClock) -> None:
    async def orders(seed: int, date_only: bool) -> list[list[str]]:
        faults = FaultConfig(unstable_ties=True, date_only=date_only, rng_seed=seed)
        config = SandboxConfig(
            as_of=AS_OF, clock=clock, months=3, transactions_per_account=3000, faults=faults
        )
        app = create_app(config)
        bank: SandboxBank = app.state.bank
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            headers = await _log_in(client, bank, "dilnoza")
            return [_ids(await _page(client, _card(bank), headers, limit=80)) for _ in range(3)]

    first, again, other = await orders(5, True), await orders(5, True), await orders(6, True)
    distinct_times = await orders(5, False)

    assert first == again
    assert first != other
    assert len({tuple(o) for o in first}) == 3
    # Without date_only every posted differs inside an account: nothing ties.
    assert len({tuple(o) for o in distinct_times}) == 1


# --- mid_read_inserts -----------------------------------------------------------------------


async def test_mid_read_inserts_shift_a_newest_first_reader(
    client: httpx.AsyncClient,
    login: Login,
    bank: SandboxBank,
    faults: FaultInjector,
    clock: FakeClock,
) -> None:
    account_id = _card(bank)
    headers = await login()
    before = [r.id for r in bank.truth(account_id)]
    faults.config.mid_read_inserts = 3
    faults.config.clock_skew_seconds = 90

    pages = await _read_all(client, account_id, headers, limit=40, direction="DESC")
    truth = bank.truth(account_id)
    added = truth[len(before) :]

    assert [r.id for r in truth[: len(before)]] == before
    assert len(added) == 3 and faults.config.mid_read_inserts == 0
    assert all(r.status == "BOOKED" for r in added)
    assert all(r.posted >= clock.now + timedelta(seconds=90) for r in added)
    # Each insert pushed the older rows one place on: the next page repeats a row.
    for earlier, later in pairwise(pages[:4]):
        assert earlier[-1]["id"] == later[0]["id"]
    assert set(_ids(_flat(pages))) == set(before)  # the new rows came after the read began
    _chain_holds(bank, account_id)
    balance = await client.get(
        f"{API}/banks/{BANK}/accounts/{account_id}/views/owner/balances", headers=headers
    )
    booked = next(b for b in balance.json()["balances"] if b["type"] == "OpeningBooked")
    assert _minor(booked["amount"]) == added[-1].new_balance_minor


async def test_mid_read_inserts_reach_an_oldest_first_reader(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    faults.config.mid_read_inserts = 2

    pages = await _read_all(client, account_id, headers, limit=60, direction="ASC")

    assert _ids(_flat(pages)) == [r.id for r in bank.truth(account_id)]
    assert faults.config.mid_read_inserts == 0


# --- mid_read_removals ----------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_mid_read_removals_shift_readers_in_both_directions(
    client: httpx.AsyncClient,
    login: Login,
    bank: SandboxBank,
    faults: FaultInjector,
    direction: str,
) -> None:
    account_id = _card(bank)
    headers = await login()
    before = bank.truth(account_id)
    faults.config.mid_read_removals = 3

    pages = await _read_all(client, account_id, headers, limit=40, direction=direction)
    after = bank.truth(account_id)
    read = _ids(_flat(pages))
    removed = {r.id for r in before} - {r.id for r in after}

    assert len(removed) == 3 and len(after) == len(before) - 3
    assert faults.config.mid_read_removals == 0
    assert removed <= set(read)  # each was behind the reader when it went
    assert all(r.status == "BOOKED" for r in before if r.id in removed)
    # Each removal pulled the rest one place back: the reader skipped one row per removal.
    skipped = {r.id for r in after} - set(read)
    assert len(skipped) == 3
    assert len(read) == len(set(read)) == len(before) - 3
    _chain_holds(bank, account_id)
    shift = {r.id: r.new_balance_minor for r in after}
    moved = [r for r in before if r.id in shift and r.new_balance_minor != shift[r.id]]
    assert moved  # later balances took the reversals in


async def test_removed_rows_leave_lookups_and_the_listing(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    account_id = _card(bank)
    headers = await login()
    before = bank.truth(account_id)
    booked = [r for r in before if r.status == "BOOKED"]
    old, recent = booked[10], booked[-1]  # one generated row, one of the last days
    balance = bank.booked_balance_minor(account_id)

    assert bank.remove_transaction(account_id, old.id) is not None
    assert bank.remove_transaction(account_id, recent.id) is not None
    assert bank.remove_transaction(account_id, old.id) is None
    pending = next(r for r in before if r.status == "PENDING")
    assert bank.remove_transaction(account_id, pending.id) is None

    listed = _flat(await _read_all(client, account_id, headers, limit=50, direction="ASC"))
    gone = await client.get(
        f"{transactions_path(account_id)}/{old.id}/transaction", headers=headers
    )

    assert _ids(listed) == [r.id for r in before if r.id not in {old.id, recent.id}]
    expect_error(gone, 400, "OBP-30067")
    assert bank.booked_balance_minor(account_id) == balance - old.amount_minor - recent.amount_minor
    _chain_holds(bank, account_id)
    served = {
        t["id"]: _minor(t["details"]["new_balance"]["amount"])
        for t in listed
        if t["details"]["new_balance"]
    }
    assert served == {
        r.id: r.new_balance_minor for r in bank.truth(account_id) if r.new_balance_minor is not None
    }


# --- hidden_from_listing --------------------------------------------------------------------


async def test_hidden_rows_leave_the_listing_but_not_the_balances(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    truth = bank.truth(account_id)
    hidden = [truth[3].id, truth[77].id, truth[-1].id]
    balance = bank.booked_balance_minor(account_id)
    faults.config.hidden_from_listing = hidden

    for direction in ("ASC", "DESC"):
        pages = await _read_all(client, account_id, headers, limit=30, direction=direction)
        listed = _ids(_flat(pages))
        expected = [r.id for r in truth if r.id not in hidden]
        assert listed == (expected if direction == "ASC" else expected[::-1])
    one = await client.get(
        f"{transactions_path(account_id)}/{hidden[1]}/transaction", headers=headers
    )

    assert one.status_code == 200  # only the listing leaves it out
    assert bank.booked_balance_minor(account_id) == balance
    assert bank.truth(account_id) == truth  # the truth keeps hidden rows
    # The listed rows no longer add up to the bank's balance.
    listed_booked = [r for r in truth if r.id not in hidden and r.status == "BOOKED"]
    hidden_booked = sum(r.amount_minor for r in truth if r.id in hidden and r.status == "BOOKED")
    opening = truth[0].new_balance_minor
    assert opening is not None
    start = opening - truth[0].amount_minor
    assert start + sum(r.amount_minor for r in listed_booked) == balance - hidden_booked


# --- clock_skew_seconds ---------------------------------------------------------------------


@pytest.mark.parametrize("skew", [600, -600])
async def test_clock_skew_stamps_the_rows_the_bank_adds(
    client: httpx.AsyncClient, bank: SandboxBank, faults: FaultInjector, clock: FakeClock, skew: int
) -> None:
    account_id = _card(bank)
    faults.config.clock_skew_seconds = skew
    bank_now = clock.now + timedelta(seconds=skew)

    added = await client.post(
        "/sandbox/admin/add-transactions", json={"account_id": account_id, "count": 2}
    )
    booked = await client.post("/sandbox/admin/book-pending", json={"account_id": account_id})

    new_ids = set(added.json()["transaction_ids"]) | {
        b["transaction_id"] for b in booked.json()["booked"]
    }
    stamped = [r.posted for r in bank.truth(account_id) if r.id in new_ids]
    assert len(stamped) == len(new_ids) >= 3
    assert min(stamped) == bank_now
    assert max(stamped) < bank_now + timedelta(seconds=len(new_ids))
    _chain_holds(bank, account_id)


# --- api_versions ---------------------------------------------------------------------------


async def test_a_v500_only_bank(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    v500 = transactions_path(account_id).replace(API, "/obp/v5.0.0")
    before = await client.get("/obp/v5.0.0/root")
    faults.config.api_versions = ["v5.0.0"]

    root = await client.get("/obp/v5.0.0/root")
    newer = await client.get(f"{API}/root")
    page = await _page(client, account_id, await login(), path=v500, limit=5)
    revoke = await client.delete("/obp/v5.0.0/my/consent/current", headers=headers)

    expect_error(before, 404, "OBP-10404")
    assert root.status_code == 200
    assert root.json()["version"] == "v5.0.0" and root.json()["version_status"] == "STABLE"
    expect_error(newer, 404, "OBP-10404")
    assert _ids(page) == [r.id for r in bank.truth(account_id)][::-1][:5]
    expect_error(revoke, 404, "OBP-10404")  # OBP added it in v5.1.0


async def test_several_versions_are_served_side_by_side(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    faults.config.api_versions = ["v5.0.0", "v5.1.0"]
    headers = await login()

    roots = [(await client.get(f"/obp/{v}/root")).json()["version"] for v in ("v5.0.0", "v5.1.0")]
    accounts = [
        (await client.get(f"/obp/{v}/my/accounts", headers=headers)).status_code
        for v in ("v5.0.0", "v5.1.0")
    ]
    other = await client.get("/obp/v4.0.0/banks")

    assert roots == ["v5.0.0", "v5.1.0"]
    assert accounts == [200, 200]
    expect_error(other, 404, "OBP-10404")


# --- retry_after_http_date ------------------------------------------------------------------


@pytest.mark.parametrize("second", [0, 17, 59])
async def test_retry_after_as_an_http_date(
    client: httpx.AsyncClient, login: Login, faults: FaultInjector, clock: FakeClock, second: int
) -> None:
    headers = await login()
    clock.now = clock.now.replace(second=second)
    faults.config.rate_limit_per_minute = 1
    faults.config.retry_after_http_date = True

    await client.get(f"{API}/my/accounts", headers=headers)
    limited = await client.get(f"{API}/my/accounts", headers=headers)

    expect_error(limited, 429, "OBP-10018")
    retry_after = limited.headers["retry-after"]
    assert IMF_FIXDATE.match(retry_after)
    next_minute = clock.now.replace(second=0) + timedelta(minutes=1)
    assert parsedate_to_datetime(retry_after) == next_minute
    assert int(limited.headers["x-rate-limit-reset"]) == (next_minute - clock.now).seconds


# --- truth ----------------------------------------------------------------------------------


async def test_truth_is_what_a_complete_read_plus_hidden_rows_gives(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, faults: FaultInjector
) -> None:
    account_id = _card(bank)
    headers = await login()
    faults.config.date_only = True
    faults.config.mid_read_inserts = 2
    faults.config.mid_read_removals = 2
    await _read_all(client, account_id, headers, limit=25, direction="DESC")
    hidden = [r.id for r in bank.truth(account_id)[5:7]]
    faults.config.hidden_from_listing = hidden

    listed = _flat(await _read_all(client, account_id, headers, limit=1000, direction="ASC"))
    truth = bank.truth(account_id)

    rows = {r.id: r for r in truth}
    assert [t["id"] for t in listed] == [r.id for r in truth if r.id not in hidden]
    for item in listed:
        row = rows[item["id"]]
        assert _minor(item["details"]["value"]["amount"]) == row.amount_minor
        assert _posted(item) == row.posted
        status = next(a["value"] for a in item["transaction_attributes"] if a["name"] == "STATUS")
        assert status == row.status
    assert all(r.posted == r.posted.replace(hour=0, minute=0, second=0) for r in truth)
    _chain_holds(bank, account_id)
    response = await client.get(f"/sandbox/admin/truth/{account_id}")
    body = response.json()
    assert body["booked_balance_minor"] == bank.booked_balance_minor(account_id)
    assert [t["id"] for t in body["transactions"]] == [r.id for r in truth]
    assert [t["amount_minor"] for t in body["transactions"]] == [r.amount_minor for r in truth]
    expect_error(await client.get("/sandbox/admin/truth/nope"), 404, "OBP-30018")


async def test_faults_keep_a_big_account_lazy(clock: FakeClock) -> None:
    config = SandboxConfig(
        seed=3, customers=1, transactions_per_account=300_000, as_of=AS_OF, clock=clock
    )
    app = create_app(config)
    bank: SandboxBank = app.state.bank
    account_id = bank.accounts_of(bank.customers[0].username)[1].id
    history = bank.history(account_id)
    deep = history.slice(250_000, 250_003)
    bank.remove_transaction(account_id, deep[1].id)
    app.state.faults.config.hidden_from_listing = [deep[2].id]
    generated = bank.generated_blocks
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        headers = await _log_in(client, bank, bank.customers[0].username)
        page = await _page(
            client, account_id, headers, offset=249_999, limit=4, sort_direction="ASC"
        )

    assert (
        _ids(page)[1] == deep[0].id
        and deep[1].id not in _ids(page)
        and deep[2].id not in _ids(page)
    )
    assert bank.generated_blocks - generated <= 3


# --- FaultConfig validation -----------------------------------------------------------------

_GOOD = {
    "strip_underscore_headers": True,
    "max_page_size": 25,
    "ignore_sort_direction": True,
    "date_only": True,
    "unstable_ties": True,
    "mid_read_inserts": 4,
    "mid_read_removals": 2,
    "hidden_from_listing": ["a", "b"],
    "clock_skew_seconds": -300,
    "api_versions": ["v5.0.0"],
    "retry_after_http_date": True,
}

_BAD = [
    ("strip_underscore_headers", 1),
    ("max_page_size", 0),
    ("max_page_size", "10"),
    ("ignore_sort_direction", "yes"),
    ("date_only", None),
    ("unstable_ties", 0),
    ("mid_read_inserts", -1),
    ("mid_read_inserts", True),
    ("mid_read_removals", 1.5),
    ("hidden_from_listing", "abc"),
    ("hidden_from_listing", [1]),
    ("clock_skew_seconds", 2.0),
    ("clock_skew_seconds", 2 * 24 * 3600),
    ("api_versions", []),
    ("api_versions", ["5.1.0"]),
    ("api_versions", ["v5.1.0", "v5.1.0"]),
    ("api_versions", "v5.1.0"),
    ("retry_after_http_date", "true"),
]


def test_paging_knobs_default_off() -> None:
    config = FaultConfig()
    assert {k: getattr(config, k) for k in _GOOD} == {
        "strip_underscore_headers": False,
        "max_page_size": None,
        "ignore_sort_direction": False,
        "date_only": False,
        "unstable_ties": False,
        "mid_read_inserts": 0,
        "mid_read_removals": 0,
        "hidden_from_listing": [],
        "clock_skew_seconds": 0,
        "api_versions": ["v5.1.0"],
        "retry_after_http_date": False,
    }


@pytest.mark.parametrize(("name", "value"), _BAD)
async def test_bad_paging_knobs_are_refused(
    client: httpx.AsyncClient, faults: FaultInjector, name: str, value: object
) -> None:
    with pytest.raises(ValueError, match=name):
        FaultConfig.from_json({name: value})

    response = await client.put("/sandbox/admin/faults", json={name: value})

    expect_error(response, 400, "OBP-10001")
    assert name in response.json()["message"]
    assert faults.config == FaultConfig()


async def test_paging_knobs_set_through_the_admin_api(
    client: httpx.AsyncClient, faults: FaultInjector
) -> None:
    response = await client.put("/sandbox/admin/faults", json=_GOOD)
    read_back = await client.get("/sandbox/admin/faults")

    assert response.status_code == 200
    assert {k: read_back.json()[k] for k in _GOOD} == _GOOD
    assert {k: getattr(faults.config, k) for k in _GOOD} == _GOOD
