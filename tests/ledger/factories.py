"""Minimal ledger rows for tests: a customer with one connected account."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, Connection, Institution, User


async def connected_account(session: AsyncSession, *, currency: str = "TJS") -> tuple[int, int]:
    """Insert an institution, a customer, a connection and an account; return (conn, account)."""
    inst = (
        await session.execute(
            insert(Institution)
            .values(code="alif", name="Alif Bank", country="TJ")
            .returning(Institution.id)
        )
    ).scalar_one()
    user = (
        await session.execute(insert(User).values(phone="+992900000001").returning(User.id))
    ).scalar_one()
    conn = (
        await session.execute(
            insert(Connection)
            .values(
                user_id=user,
                institution_id=inst,
                provider="alif",
                base_url="http://sandbox",
                bank_id="alif.tj",
                credentials_encrypted=b"x",
            )
            .returning(Connection.id)
        )
    ).scalar_one()
    account = (
        await session.execute(
            insert(Account)
            .values(
                connection_id=conn,
                external_id="acc-1",
                institution_id=inst,
                user_id=user,
                type="WALLET",
                name="Wallet",
                number_masked="••••8601",
                currency=currency,
                payload_hash="-",
            )
            .returning(Account.id)
        )
    ).scalar_one()
    return conn, account
