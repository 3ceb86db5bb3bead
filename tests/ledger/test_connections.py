"""Linking a bank: a first link adds a connection, a re-link renews it in place."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import connections, customers
from ledger.models import Connection, Institution, table

ALIF = ("alif", "Alif Bank", "TJ", "ALIFTJ22")
FIRST = datetime(2027, 1, 1, tzinfo=UTC)
SECOND = datetime(2027, 6, 1, tzinfo=UTC)
CONNECTIONS = table(Connection)


async def _link(session: AsyncSession, user_id: int, blob: bytes, expires: datetime) -> int:
    return await connections.link_bank(
        session,
        user_id=user_id,
        institution=ALIF,
        provider="alif",
        base_url="http://sandbox",
        bank_id="alif.tj",
        credentials_encrypted=blob,
        upstream_consent_expires_at=expires,
    )


async def test_relinking_the_same_bank_renews_the_one_connection(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        user_id = await customers.ensure(s, "+992900000001")
        first = await _link(s, user_id, b"first", FIRST)
        await s.execute(
            update(CONNECTIONS).where(CONNECTIONS.c.id == first).values(status="REAUTH_REQUIRED")
        )

    async with sessions.begin() as s:
        second = await _link(s, user_id, b"second", SECOND)

    async with sessions() as s:
        rows = (await s.execute(select(Connection))).scalars().all()
        institutions = (
            await s.execute(select(func.count()).select_from(table(Institution)))
        ).scalar_one()
    assert second == first
    assert len(rows) == 1 and institutions == 1
    (row,) = rows
    assert row.credentials_encrypted == b"second"
    assert row.upstream_consent_expires_at == SECOND
    assert row.status == "ACTIVE"
    assert (row.provider, row.bank_id, row.base_url) == ("alif", "alif.tj", "http://sandbox")


async def test_another_customer_or_bank_gets_its_own_connection(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        one = await customers.ensure(s, "+992900000001")
        two = await customers.ensure(s, "+992900000002")
        a = await _link(s, one, b"a", FIRST)
        b = await _link(s, two, b"b", FIRST)
        c = await connections.link_bank(
            s,
            user_id=one,
            institution=("obp:other", "other", "TJ", None),
            provider="obp",
            base_url="http://sandbox",
            bank_id="other",
            credentials_encrypted=b"c",
            upstream_consent_expires_at=None,
        )
        found = await connections.connection_to(
            s, user_id=one, base_url="http://sandbox", bank_id="alif.tj"
        )
        missing = await connections.connection_to(
            s, user_id=two, base_url="http://sandbox", bank_id="other"
        )

    assert len({a, b, c}) == 3
    assert found == a and missing is None
