"""`bankConnections` shows when the service may next sync a connection by itself, and
`connectionRefresh` syncs it now for the present customer: after the four unattended
syncs of the day it still passes, is recorded as the customer's, and has its own pace.
Against the sandbox bank over HTTP, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.alif.constants import ALIF_INSTITUTION
from connectors.credentials import Credentials, encrypt
from connectors.factory import open_connector
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.config import SandboxConfig
from connectors.sync import SyncEngine
from graph.auth.runtime import AuthConfig
from graph.cli.sync import Skipped, sync_connections
from graph.relay.ids import to_global_id
from graph.server.app import create_app
from graph.settings import Settings
from ledger import connections
from ledger.models import Consent, SyncRun, table
from ledger.sync_store import Trigger
from ledger.types import utcnow

from .helpers import KEYS, SECRET, Api, codes, consent_of

CONNECTIONS = """
{ bankConnections { id bank status nextUnattendedSyncAt unattendedSyncRefusal } }
"""
REFRESH = """
mutation Refresh($id: ID!) {
  connectionRefresh(id: $id) {
    __typename
    ... on ConnectionRefreshSuccess { runStatus connection { id unattendedSyncRefusal } }
    ... on ConnectionRefreshError { code refusal retryAfter message }
  }
}
"""
OTHER_PHONE = "+992900000099"


@pytest.fixture
def sandbox() -> object:
    return create_sandbox(SandboxConfig(seed=5, months=1, as_of=datetime(2026, 11, 1, tzinfo=UTC)))


@pytest.fixture
async def linked(sandbox: object, sessions: async_sessionmaker[AsyncSession]) -> tuple[str, int]:
    """A customer's bank linked, with the linking read done; (phone, connection id)."""
    bank = sandbox.state.bank  # type: ignore[attr-defined]
    customer = bank.customers[0]
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=customer.phone,
            institution=ALIF_INSTITUTION,
            provider="alif",
            base_url="http://sandbox",
            bank_id=bank.bank_id,
            credentials_encrypted=encrypt(creds, KEYS),
        )
    connector = open_connector(
        "alif", "http://sandbox", bank.bank_id, creds, transport=httpx.ASGITransport(app=sandbox)
    )
    await SyncEngine(sessions).sync(connection_id, connector, trigger=Trigger.LINK)
    await connector.aclose()
    return customer.phone, connection_id


@pytest.fixture
async def api(
    db_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], sandbox: object
) -> AsyncIterator[Api]:
    app = create_app(
        Settings(database_url=db_url, secret_key=SECRET),
        engine=engine,
        auth=AuthConfig(bank_transport=httpx.ASGITransport(app=sandbox)),  # type: ignore[arg-type]
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield Api(client, sessions)


async def _unattended(db_url: str, sandbox: object) -> list[Skipped]:
    skipped: list[Skipped] = []
    await sync_connections(
        None,
        full=False,
        database_url=db_url,
        keys=KEYS,
        transport=httpx.ASGITransport(app=sandbox),  # type: ignore[arg-type]
        skipped=skipped,
    )
    return skipped


async def test_a_present_refresh_passes_after_the_four_unattended_syncs(
    api: Api,
    linked: tuple[str, int],
    db_url: str,
    sandbox: object,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    phone, connection_id = linked
    token = await api.token(phone=phone)
    gid = to_global_id("BankConnection", connection_id)

    before = (await api.query(CONNECTIONS, token=token))["data"]["bankConnections"]
    assert [(c["id"], c["unattendedSyncRefusal"]) for c in before] == [(gid, None)]
    for _ in range(4):
        assert await _unattended(db_url, sandbox) == []
    async with sessions() as s:
        first = (
            (
                await s.execute(
                    select(table(SyncRun).c.started_at)
                    .where(table(SyncRun).c.trigger == "UNATTENDED")
                    .order_by(table(SyncRun).c.started_at)
                )
            )
            .scalars()
            .first()
        )
    assert first is not None
    (fifth,) = await _unattended(db_url, sandbox)
    assert fifth.connection_id == connection_id

    (shown,) = (await api.query(CONNECTIONS, token=token))["data"]["bankConnections"]
    assert shown["unattendedSyncRefusal"] == "DAILY_LIMIT"
    next_at = datetime.fromisoformat(shown["nextUnattendedSyncAt"])
    assert abs(next_at - (first + timedelta(hours=24))) < timedelta(seconds=1)

    refreshed = (await api.query(REFRESH, {"id": gid}, token=token))["data"]
    assert refreshed["connectionRefresh"] == {
        "__typename": "ConnectionRefreshSuccess",
        "runStatus": "SUCCEEDED",
        "connection": {"id": gid, "unattendedSyncRefusal": "DAILY_LIMIT"},
    }
    again = (await api.query(REFRESH, {"id": gid}, token=token))["data"]["connectionRefresh"]
    assert again["code"] == "REFUSED" and again["refusal"] == "REFRESHED_RECENTLY"
    assert 1 <= again["retryAfter"] <= 60
    async with sessions() as s:
        triggers = (await s.execute(select(table(SyncRun).c.trigger))).scalars().all()
    assert sorted(triggers) == ["CUSTOMER", "LINK"] + ["UNATTENDED"] * 4
    # The customer's refresh did not use up anything: the next unattended run is still refused.
    (still,) = await _unattended(db_url, sandbox)
    assert still.connection_id == connection_id


async def test_another_customers_connection_looks_missing(
    api: Api, linked: tuple[str, int]
) -> None:
    _, connection_id = linked
    stranger = await api.token(phone=OTHER_PHONE)
    gid = to_global_id("BankConnection", connection_id)

    listed = (await api.query(CONNECTIONS, token=stranger))["data"]["bankConnections"]
    refreshed = (await api.query(REFRESH, {"id": gid}, token=stranger))["data"]
    missing = (
        await api.query(
            REFRESH, {"id": to_global_id("BankConnection", connection_id + 1)}, token=stranger
        )
    )["data"]

    assert listed == []
    assert refreshed == missing
    assert refreshed["connectionRefresh"]["code"] == "NOT_FOUND"
    rows = [(r.operation, r.outcome, r.object_ids) for r in await api.audit_rows()]
    assert rows[-2:] == [
        ("Refresh", "denied", gid),
        ("Refresh", "denied", to_global_id("BankConnection", connection_id + 1)),
    ]


async def test_a_refresh_needs_the_accounts_scope(api: Api, linked: tuple[str, int]) -> None:
    phone, connection_id = linked
    token = await api.token(phone=phone, scopes=["transactions:read"])
    gid = to_global_id("BankConnection", connection_id)

    body = await api.query(REFRESH, {"id": gid}, token=token)

    assert body["data"]["connectionRefresh"] is None and codes(body) == ["FORBIDDEN"]


async def test_a_refresh_after_180_days_without_sca_asks_for_it_again(
    api: Api, linked: tuple[str, int], sessions: async_sessionmaker[AsyncSession]
) -> None:
    phone, connection_id = linked
    token = await api.token(phone=phone)
    async with sessions.begin() as s:
        await s.execute(
            update(table(Consent))
            .where(table(Consent).c.id == consent_of(token))
            .values(sca_at=utcnow() - timedelta(days=181))
        )
    gid = to_global_id("BankConnection", connection_id)

    refused = (await api.query(REFRESH, {"id": gid}, token=token))["data"]["connectionRefresh"]
    (shown,) = (await api.query(CONNECTIONS, token=token))["data"]["bankConnections"]

    assert refused["code"] == "REFUSED" and refused["refusal"] == "SCA_EXPIRED"
    assert refused["retryAfter"] is None
    assert shown["status"] == "SCA_REQUIRED"
    assert shown["unattendedSyncRefusal"] == "SCA_EXPIRED" and shown["nextUnattendedSyncAt"] is None
