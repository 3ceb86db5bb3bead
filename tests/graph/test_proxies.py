"""X-Forwarded-For is believed only from settings.trusted_proxies: otherwise the socket's
peer is the client, for the audit and for per-address rate limits."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.cli.api import serve
from graph.server.app import create_app
from graph.server.logs import log_config
from graph.settings import Settings
from ledger.models import AuditEvent

from .ledger_data import LedgerData

FORGED = "203.0.113.9"


async def audited_ips(sessions: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with sessions() as session:
        rows = await session.execute(select(AuditEvent.ip).order_by(AuditEvent.id))
        return list(rows.scalars())


async def refused_requests(
    settings: Settings, engine: AsyncEngine, peer: str, forwarded: list[str]
) -> None:
    """One request with a forged token per X-Forwarded-For value, from the socket `peer`."""
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine), client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        for value in forwarded:
            response = await client.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"Authorization": "Bearer forged", "X-Forwarded-For": value},
            )
            assert response.status_code == 401


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "seen"),
    [
        ([], "127.0.0.1", FORGED, "127.0.0.1"),  # the default trusts no one, loopback neither
        (["10.0.0.0/8"], "192.0.2.1", FORGED, "192.0.2.1"),  # a peer that is not a proxy
        (["10.0.0.0/8"], "10.1.2.3", FORGED, FORGED),
        # The nearest address that is not a proxy: what a client puts first is its own.
        (["10.0.0.0/8"], "10.1.2.3", f"198.51.100.1, {FORGED}, 10.9.9.9", FORGED),
        (["127.0.0.1", "::1"], "127.0.0.1", FORGED, FORGED),
    ],
)
async def test_the_audited_address(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerData,
    trusted: list[str],
    peer: str,
    forwarded: str,
    seen: str,
):
    await refused_requests(
        settings.model_copy(update={"trusted_proxies": trusted}), engine, peer, [forwarded]
    )

    assert await audited_ips(sessions) == [seen]


@pytest.mark.parametrize(("trusted", "audited"), [([], 2), (["127.0.0.1"], 4)])
async def test_per_address_limits_follow_the_trusted_address(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerData,
    trusted: list[str],
    audited: int,
):
    # Failed authentications are audited up to 2 per address; each request claims another.
    changed = {"trusted_proxies": trusted, "rate_failed_auth_per_ip_per_minute": 2}
    claims = [f"198.51.100.{n}" for n in range(4)]

    await refused_requests(settings.model_copy(update=changed), engine, "127.0.0.1", claims)

    ips = await audited_ips(sessions)
    assert len(ips) == audited
    assert ips == (["127.0.0.1"] * 2 if not trusted else claims)


def test_trusted_proxies_are_addresses_or_networks():
    assert Settings(trusted_proxies="10.0.0.0/8, 127.0.0.1,::1").trusted_proxies == [
        "10.0.0.0/8",
        "127.0.0.1",
        "::1",
    ]
    assert Settings().trusted_proxies == []
    for wrong in ("*", "proxy.internal", "10.0.0.0/33"):
        with pytest.raises(ValidationError, match="not an IP address or network"):
            Settings(trusted_proxies=wrong)


def test_serve_leaves_forwarded_headers_to_the_app(monkeypatch: pytest.MonkeyPatch):
    # uvicorn's own handling would trust 127.0.0.1 before the app sees the request.
    started: list[dict[str, object]] = []
    monkeypatch.setattr("graph.cli.api.uvicorn.run", lambda *a, **k: started.append(k))

    serve(host="127.0.0.1", port=8000, workers=1)

    assert started[0]["proxy_headers"] is False
    assert started[0]["log_config"] == log_config()
