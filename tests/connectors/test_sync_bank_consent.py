"""The sync engine and the bank consent's state: a revocation by the customer while a run
reads the bank stands when the run ends (its status is not overwritten), and the run's
failure says why the bank refused. Both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from connectors.sync import SyncEngine
from ledger import connections
from ledger.types import utcnow

from .sync_kit import Bank, connector_for


class RevokedMidRun:
    """A connector whose first call is answered after the customer revoked the connection."""

    def __init__(self, inner: Any, sessions: async_sessionmaker[AsyncSession], pk: int) -> None:
        self.inner = inner
        self.sessions = sessions
        self.pk = pk

    async def accounts(self) -> Any:
        async with self.sessions.begin() as s:
            await connections.mark_revoking(s, [self.pk], now=utcnow())
        return await self.inner.accounts()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def _status(sessions: async_sessionmaker[AsyncSession], pk: int) -> str:
    async with sessions() as s:
        return (await connections.bank_side(s, pk)).status


async def test_a_revocation_during_a_run_stands_when_it_ends(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    _, connection_id, creds = family
    connector = RevokedMidRun(connector_for(bank, "alif", creds), sessions, connection_id)
    try:
        report = await SyncEngine(sessions).sync(connection_id, connector)  # type: ignore[arg-type]
    finally:
        await connector.aclose()

    assert report.status == "SUCCEEDED"
    assert await _status(sessions, connection_id) == connections.REVOKING


async def test_a_revoked_connection_is_not_marked_syncing(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    _, connection_id, creds = family
    async with sessions.begin() as s:
        await connections.mark_revoking(s, [connection_id], now=utcnow())
    seen: list[str] = []

    class Watching(RevokedMidRun):
        async def accounts(self) -> Any:
            seen.append(await _status(self.sessions, self.pk))
            return await self.inner.accounts()

    connector = Watching(connector_for(bank, "alif", creds), sessions, connection_id)
    try:
        await SyncEngine(sessions).sync(connection_id, connector)  # type: ignore[arg-type]
    finally:
        await connector.aclose()

    assert seen == [connections.REVOKING]
    assert await _status(sessions, connection_id) == connections.REVOKING
