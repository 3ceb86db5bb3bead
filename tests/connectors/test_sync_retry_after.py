"""Retry-After as an HTTP date, end to end: the sandbox refuses with a 429 whose Retry-After
is a date by its clock, and the sync waits until that date before asking again (measured on
the fake clock both sides share, so nothing depends on real time). A date in the past or a
value nobody can read falls back to the bank's X-Rate-Limit-Reset. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.sync import SyncEngine

from .sync_kit import Bank, assert_ledger_equals_bank, connect, connector_for

PAGE = 40


class Watch(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, recording each answer's (bank instant, path, status,
    Retry-After); it drops X-Rate-Limit-Remaining (a proxy that does), so the client cannot
    pace itself ahead of the limit and does meet the 429s."""

    def __init__(self, bank: Bank) -> None:
        self.bank = bank
        self.inner = httpx.ASGITransport(app=bank.app)
        self.seen: list[tuple[datetime, str, int, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = self.bank.clock.now
        response = await self.inner.handle_async_request(request)
        headers = [
            (k, v) for k, v in response.headers.raw if k.lower() != b"x-rate-limit-remaining"
        ]
        self.seen.append(
            (sent, request.url.path, response.status_code, response.headers.get("Retry-After"))
        )
        return httpx.Response(response.status_code, headers=headers, stream=response.stream)


async def _sync(sessions: async_sessionmaker[AsyncSession], bank: Bank, **knobs: Any) -> Watch:
    username = bank.truth.customers[0].username
    connection_id, creds = await connect(sessions, bank, username, "alif")
    for name, value in knobs.items():
        setattr(bank.faults, name, value)
    watch = Watch(bank)
    connector = connector_for(bank, "alif", creds, page_size=PAGE, clock=bank.clock)
    connector._client._http._transport = watch  # type: ignore[attr-defined]
    try:
        report = await SyncEngine(sessions, clock=bank.clock).sync(connection_id, connector)
    finally:
        await connector.aclose()
    assert report.status == "SUCCEEDED", (report.error, report.issues)
    await assert_ledger_equals_bank(sessions, bank, username, connection_id)
    return watch


def _refusals(watch: Watch) -> list[tuple[int, datetime, str | None, datetime]]:
    """Each 429: (its index, when, its Retry-After, when the same path was asked next)."""
    out = []
    for index, (at, path, status, retry_after) in enumerate(watch.seen):
        if status == 429:
            nxt = next(t for t, p, _, _ in watch.seen[index + 1 :] if p == path)
            out.append((index, at, retry_after, nxt))
    return out


@pytest.mark.parametrize("per_minute", [5, 9])
async def test_the_sync_waits_until_the_date_a_429_names(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, per_minute: int
) -> None:
    watch = await _sync(
        sessions, bank, rate_limit_per_minute=per_minute, retry_after_http_date=True
    )

    refusals = _refusals(watch)
    assert refusals  # the limit was met
    for _, at, retry_after, nxt in refusals:
        assert retry_after is not None and not retry_after.strip().isdigit()
        until = parsedate_to_datetime(retry_after)
        assert at < until <= at + timedelta(seconds=60)
        # Asked again exactly when the bank said: not a moment before, no longer after.
        assert nxt == until


@pytest.mark.parametrize("value", ["Thu, 01 Jan 2015 00:00:00 GMT", "soon, maybe", "-5"])
async def test_a_past_or_unreadable_retry_after_falls_back_to_the_reset(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, value: str
) -> None:
    watch = await _sync(sessions, bank, rate_limit_per_minute=7, retry_after_value=value)

    refusals = _refusals(watch)
    assert refusals
    for _, at, retry_after, nxt in refusals:
        assert retry_after == value
        # The reset is the rest of the bank's minute: the next ask opens a new minute.
        assert nxt > at and nxt.replace(second=0, microsecond=0) > at.replace(
            second=0, microsecond=0
        )
        assert nxt - at <= timedelta(seconds=60)
