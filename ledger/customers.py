"""Customers (PSUs) as the consent pages and development tokens see them: who a phone
number is, and which accounts are theirs to consent to.

A customer is created where one first appears (`ensure`): linking a bank, or the consent pages.
Their PIN, the knowledge factor of SCA, is kept only as the hash the caller made of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, User, table
from ledger.types import utcnow
from ledger.writes import insert_for

CUSTOMERS = table(User)
ACCOUNTS = table(Account)


@dataclass(frozen=True, slots=True)
class CustomerAccount:
    id: int
    name: str
    number_masked: str
    currency: str


async def ensure(session: AsyncSession, phone: str, locale: str = "ru") -> int:
    """The customer with this phone number, created if there is none (races included)."""
    await session.execute(
        insert_for(session, CUSTOMERS)
        .values(phone=phone, locale=locale, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["phone"])
    )
    return int(
        (
            await session.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.phone == phone))
        ).scalar_one()
    )


async def id_by_phone(session: AsyncSession, phone: str) -> int | None:
    """The customer with this phone number, without creating one."""
    user_id = (
        await session.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.phone == phone))
    ).scalar_one_or_none()
    return int(user_id) if user_id is not None else None


async def accounts_of(session: AsyncSession, user_id: int) -> list[CustomerAccount]:
    """The customer's accounts, oldest first."""
    rows = await session.execute(
        select(ACCOUNTS.c.id, ACCOUNTS.c.name, ACCOUNTS.c.number_masked, ACCOUNTS.c.currency)
        .where(ACCOUNTS.c.user_id == user_id)
        .order_by(ACCOUNTS.c.id)
    )
    return [CustomerAccount(int(r.id), r.name, r.number_masked, r.currency) for r in rows]


async def pin_hash(session: AsyncSession, user_id: int) -> str | None:
    """The hash of the customer's PIN; None while they have not chosen one."""
    value: str | None = (
        await session.execute(select(CUSTOMERS.c.pin_hash).where(CUSTOMERS.c.id == user_id))
    ).scalar_one_or_none()
    return value


async def set_first_pin(session: AsyncSession, user_id: int, hashed: str) -> bool:
    """Store the customer's first PIN hash; False when they already have one (another tab
    chose it first): a PIN is never replaced by this path."""
    done = await session.execute(
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == user_id, CUSTOMERS.c.pin_hash.is_(None))
        .values(pin_hash=hashed)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


async def hold(session: AsyncSession, user_id: int) -> None:
    """Hold the customer's row until the transaction ends, so their SCA attempts are judged
    one at a time. A write, not SELECT ... FOR UPDATE: SQLite ignores the latter, and takes
    its write lock (which serialises writers) only at a first write."""
    await session.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == user_id).values(locale=CUSTOMERS.c.locale)
    )
