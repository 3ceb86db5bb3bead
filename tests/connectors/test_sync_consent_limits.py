"""`alif-graph sync` against the sandbox bank obeys the consent limits: a connection no
usable consent covers is not read at all, and the fifth unattended run in 24 hours is
skipped with its reason. Both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from graph.cli.sync import Skipped, sync_connections
from ledger import consents
from ledger.models import Connection, SyncRun, User, table
from ledger.types import utcnow

from .sync_kit import KEYS, Bank


async def _give_consent(
    sessions: async_sessionmaker[AsyncSession], connection_id: int, *, ended: str | None = None
) -> None:
    """The connection's customer consents (all accounts), a day ago; `ended`: the consent
    is then revoked, or has expired, or was never authorised."""
    now = utcnow()
    given = now - timedelta(days=1)
    lasting = timedelta(hours=12) if ended == consents.EXPIRED else timedelta(days=90)
    async with sessions.begin() as s:
        user_id = (
            await s.execute(
                select(table(Connection).c.user_id).where(table(Connection).c.id == connection_id)
            )
        ).scalar_one()
        consent_id = await consents.create(
            s, user_id=user_id, client_id=None, scopes=frozenset({"accounts:read"}),
            expires_at=given + lasting, now=given,
        )  # fmt: skip
        if ended == consents.AWAITING:
            return
        await consents.authorise(
            s, consent_id, account_ids=frozenset(), expires_at=given + lasting, now=given
        )
        if ended == consents.REVOKED:
            await consents.transition(s, consent_id, consents.REVOKED, now=now)


async def _sync_all(db_url: str, bank: Bank) -> tuple[list[str], list[Skipped]]:
    skipped: list[Skipped] = []
    reports = await sync_connections(
        None,
        full=False,
        database_url=db_url,
        keys=KEYS,
        transport=httpx.ASGITransport(app=bank.app),
        skipped=skipped,
    )
    return [r.status for r in reports], skipped


async def _triggers(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as s:
        return list((await s.execute(select(table(SyncRun).c.trigger))).scalars())


@pytest.mark.parametrize("ended", [None, consents.AWAITING, consents.REVOKED, consents.EXPIRED])
async def test_a_connection_without_a_usable_consent_is_not_read(
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
    bank: Bank,
    family: tuple[str, int, Credentials],
    ended: str | None,
) -> None:
    _, connection_id, _ = family
    if ended is not None:
        await _give_consent(sessions, connection_id, ended=ended)

    statuses, skipped = await _sync_all(db_url, bank)

    assert statuses == []
    assert [s.connection_id for s in skipped] == [connection_id]
    reason = (
        # The customer's revocation ended the connection too (docs/consent.md).
        "the customer revoked the consent that covered it; not synced unless linked again"
        if ended == consents.REVOKED
        else "no authorised, unexpired, unrevoked consent covers it"
    )
    assert skipped[0].line() == f"connection {connection_id} skipped: {reason}"
    assert bank.truth.login_attempts == 0  # the bank was never asked
    assert await _triggers(sessions) == []


async def test_four_unattended_syncs_a_day_then_the_fifth_is_skipped(
    sessions: async_sessionmaker[AsyncSession],
    db_url: str,
    bank: Bank,
    family: tuple[str, int, Credentials],
) -> None:
    _, connection_id, _ = family
    await _give_consent(sessions, connection_id)

    for _ in range(4):
        statuses, skipped = await _sync_all(db_url, bank)
        assert statuses == ["SUCCEEDED"] and skipped == []
    attempts = bank.truth.login_attempts
    statuses, skipped = await _sync_all(db_url, bank)

    assert statuses == []
    (skip,) = skipped
    assert skip.connection_id == connection_id
    assert "four unattended syncs in 24 hours are used; next possible at" in skip.line()
    assert bank.truth.login_attempts == attempts
    assert await _triggers(sessions) == ["UNATTENDED"] * 4
    async with sessions() as s:
        customers = (await s.execute(select(table(User).c.phone))).scalars().all()
    # The reason names no person.
    assert not any(phone in skip.line() for phone in customers)
