"""No secret leaves a failed sync: an httpx error carries its request (URL, query string,
headers), and a bank's error page may echo them. With the sandbox's token in every request,
a transport failure and a bad response are forced on the transactions calls; the logs (at
DEBUG), stdout/stderr, the run record, its issues and the formatted traceback of the
connector's error (what `--debug` prints) must hold no token, password or consumer key.
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.errors import UpstreamError
from connectors.sync import EPOCH, SyncEngine
from ledger.models import SyncIssueRow, SyncRun, table

from .sync_kit import Bank, connect, connector_for

TOKEN = re.compile(r'token="?([^",\s]+)')


class Leaky(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, except that transactions calls fail the way `mode` says, with
    the request's URL and Authorization header in the failure's own text."""

    def __init__(self, bank: Bank, mode: str) -> None:
        self.inner = httpx.ASGITransport(app=bank.app)
        self.mode = mode
        self.secrets: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        auth = " ".join(f"{k}: {v}" for k, v in request.headers.items())
        self.secrets.update(TOKEN.findall(auth))
        if "/transactions" not in request.url.path:
            return await self.inner.handle_async_request(request)
        told = f"{request.method} {request.url} {auth}"
        if self.mode == "transport":
            raise httpx.ConnectError(f"connection reset talking to {told}", request=request)
        page = f"<html><body><h1>502 Bad Gateway</h1><pre>{told}</pre></body></html>"
        return httpx.Response(502, text=page, headers={"X-Echo": auth[:4000]})


@pytest.mark.parametrize("mode", ["transport", "bad-response"])
async def test_a_failed_sync_shows_no_secret_anywhere(
    sessions: async_sessionmaker[AsyncSession],
    bank: Bank,
    mode: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    customer = bank.truth.customers[0]
    connection_id, creds = await connect(sessions, bank, customer.username, "alif")
    leaky = Leaky(bank, mode)
    connector = connector_for(bank, "alif", creds, page_size=40)
    connector._client._http._transport = leaky  # type: ignore[attr-defined]
    try:
        report = await SyncEngine(sessions).sync(connection_id, connector)
        # What `alif-graph --debug` would print: the error with its whole chain.
        with pytest.raises(UpstreamError) as caught:
            account = bank.truth.accounts_of(customer.username)[0].id
            await connector.transaction_page(account, offset=0, limit=10, since=EPOCH, until=None)
    finally:
        await connector.aclose()

    assert report.status == "FAILED" and report.error
    assert leaky.secrets  # a token was really in the requests
    secrets = {*leaky.secrets, creds.password or "", creds.consumer_key}
    trace = "".join(traceback.format_exception(caught.value))
    assert "Traceback" in trace and type(caught.value).__name__ in trace
    async with sessions() as s:
        runs = [r.error or "" for r in (await s.execute(select(table(SyncRun)))).all()]
        issues = [
            f"{i.reason} {i.excerpt}" for i in (await s.execute(select(table(SyncIssueRow)))).all()
        ]
    out, err = capsys.readouterr()
    texts: dict[str, Any] = {
        "logs": caplog.text,
        "stdout": out,
        "stderr": err,
        "report": f"{report.error} {report.issues}",
        "runs": " ".join(runs),
        "issues": " ".join(issues),
        "traceback": trace,
    }
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the {where}"
    # What happened is still said: the endpoint, and the cause's kind.
    assert "transactions" in report.error
    if mode == "transport":
        assert "ConnectError" in trace
