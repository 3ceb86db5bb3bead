"""`rates sync`: the sandbox's NBT feed into the ledger, exact; weekend gaps use the
latest earlier publication and say so; a malformed day anywhere stores nothing."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.errors import UpstreamMalformed, UpstreamUnavailable
from connectors.nbt.client import NbtClient, sync_rates
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.money import nbt_rate
from connectors.sandbox.nbt_feed import PATH, document, published
from graph.cli.errors import CliError
from graph.cli.main import app
from graph.cli.rates import report_lines, run_sync
from graph.settings import get_settings
from ledger import rates
from ledger.models import ExchangeRate

URL = f"http://sandbox{PATH}"
runner = CliRunner()


def sandbox() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=create_app(SandboxConfig(seed=3, customers=1, months=1)))


async def count_rates(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as s:
        return int((await s.execute(select(func.count()).select_from(ExchangeRate))).scalar_one())


@pytest.mark.parametrize(("first", "days"), [(date(2025, 2, 3), 13), (date(2025, 3, 19), 9)])
async def test_a_period_is_stored_exactly_and_gaps_carry_the_last_publication(
    sessions: async_sessionmaker[AsyncSession], first: date, days: int
):
    last = first + timedelta(days=days - 1)
    async with NbtClient(URL, transport=sandbox()) as client:
        report = await sync_rates(sessions, client, first, last)

    period = [first + timedelta(i) for i in range(days)]
    open_days = [d for d in period if published(d)]
    assert report.published == len(open_days) and report.stored == 3 * len(open_days)
    async with sessions() as s:
        for day in period:
            for currency in ("USD", "EUR", "RUB"):
                found = await rates.rate_on(s, currency, day)
                assert found is not None
                publication = max(d for d in open_days if d <= day)
                assert (found.on_date, found.carried) == (publication, publication != day)
                assert found.rate == nbt_rate(currency, publication)  # exact, never float
        for outcome in report.days:
            assert outcome.published == published(outcome.day)
            if not outcome.published:
                assert outcome.carried_from == max(d for d in open_days if d < outcome.day)
    lines = report_lines(report)
    saturday = next(d for d in period if d.weekday() == 5)
    before = max(d for d in open_days if d < saturday)
    assert f"{saturday}: no publication; the rates of {before} apply" in lines


async def test_a_resync_replaces_rather_than_duplicates(sessions):
    for _ in range(2):
        async with NbtClient(URL, transport=sandbox()) as client:
            await sync_rates(sessions, client, date(2025, 4, 1), date(2025, 4, 4))
    assert await count_rates(sessions) == 12


async def test_a_malformed_day_anywhere_stores_nothing(sessions):
    bad_day = date(2025, 4, 3)

    def answer(request: httpx.Request) -> httpx.Response:
        day = date.fromisoformat(request.url.params["date"])
        assert request.url.params["export"] == "xmlout"
        if day == bad_day:
            return httpx.Response(200, content=document(day).replace(b"10.", b"10,,"))
        return httpx.Response(200, content=document(day))

    async with NbtClient(URL, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(UpstreamMalformed, match="malformed NBT rates feed: Valute 'USD'"):
            await sync_rates(sessions, client, date(2025, 4, 1), date(2025, 4, 7))
    assert await count_rates(sessions) == 0


async def test_an_answer_for_a_later_day_is_refused(sessions):
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=document(date(2025, 4, 10)))

    async with NbtClient(URL, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(UpstreamMalformed, match="a later day"):
            await sync_rates(sessions, client, date(2025, 4, 1), date(2025, 4, 2))
    assert await count_rates(sessions) == 0


async def test_a_feed_that_keeps_failing_is_retried_then_refused(sessions):
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params["date"])
        return httpx.Response(503)

    async def no_wait(_: float) -> None:
        return None

    client = NbtClient(URL, transport=httpx.MockTransport(answer), sleep=no_wait)
    with pytest.raises(UpstreamUnavailable):
        await sync_rates(sessions, client, date(2025, 4, 1), date(2025, 4, 1))
    await client.aclose()
    assert calls == ["2025-04-01"] * 3


async def test_the_command_core_turns_a_bad_feed_into_one_line(db_url, sessions):
    bad = httpx.MockTransport(lambda request: httpx.Response(200, content=b"<html>down</html>"))
    with pytest.raises(CliError, match="rates not stored, nothing changed: malformed NBT"):
        await run_sync(db_url, URL, date(2025, 4, 1), date(2025, 4, 1), transport=bad)
    report = await run_sync(db_url, URL, date(2025, 4, 4), date(2025, 4, 6), transport=sandbox())
    assert [d.published for d in report.days] == [True, False, False]
    assert await count_rates(sessions) == 3


async def test_the_command_refuses_an_unreachable_feed_in_one_line(db_url, monkeypatch, sessions):
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    monkeypatch.setenv("ALIF_GRAPH_NBT_RATES_URL", "http://127.0.0.1:9/kurs/export_xml.php")
    get_settings.cache_clear()
    try:
        args = ["rates", "sync", "--from", "2025-04-01", "--to", "2025-04-02"]
        result = await asyncio.to_thread(runner.invoke, app, args)
        backwards = ["rates", "sync", "--from", "2025-04-02", "--to", "2025-04-01"]
        usage = await asyncio.to_thread(runner.invoke, app, backwards)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        "error: rates not stored, nothing changed: cannot reach the NBT rates feed (ConnectError)"
    ]
    assert usage.exit_code == 2 and "ends before it starts" in usage.output
    assert await count_rates(sessions) == 0


def test_rates_per_unit_match_the_published_values():
    # The sandbox's documents are what the ledger stores: spot-check the number itself.
    text = document(date(2025, 2, 3)).decode()
    assert "<Value>10.9252</Value>" in text and nbt_rate("USD", date(2025, 2, 3)) == Decimal(
        "10.9252"
    )
