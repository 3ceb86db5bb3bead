"""Customers, institutions and their bank connections."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import customers
from ledger.models import Account, Connection, Institution, table
from ledger.types import utcnow
from ledger.writes import insert_for

INSTITUTIONS = table(Institution)
CONNECTIONS = table(Connection)
ACCOUNTS = table(Account)

ACTIVE = "ACTIVE"
# The customer's SCA for every consent covering it is over 180 days old: no sync until they
# authenticate again (ledger/consents.py, sync_decision). A sync that runs clears it.
SCA_REQUIRED = "SCA_REQUIRED"
# The bank refused the stored login or consent for another reason: link it again.
REAUTH_REQUIRED = "REAUTH_REQUIRED"
# The bank says its consent is over: revoked there (by the customer at the bank, or by the
# bank), or its lifetime ended (seen on a call, or our stored expiry passed). Linking again
# (a new bank consent) makes the connection ACTIVE again; until then it is not synced.
BANK_CONSENT_REVOKED = "BANK_CONSENT_REVOKED"
BANK_CONSENT_EXPIRED = "BANK_CONSENT_EXPIRED"
# The customer revoked the last consent of ours that covered it: its bank consent is to be
# revoked at the bank (REVOKING, retried until the bank answers) and then is (REVOKED).
# Neither is synced again; only linking again revives the connection.
REVOKING = "REVOKING"
REVOKED = "REVOKED"
ENDED_BY_US = frozenset({REVOKING, REVOKED})

# A bank that cannot extend a consent (OBP cannot: the lifetime is the signed JWT's `exp`)
# needs the customer to link again before it ends; the connection says so this long before.
RENEWAL_NOTICE = timedelta(days=14)


def renewal_due_at(bank_consent_expires_at: datetime | None) -> datetime | None:
    """When the customer should link the bank again, so the bank consent never lapses."""
    return None if bank_consent_expires_at is None else bank_consent_expires_at - RENEWAL_NOTICE


async def ensure_institution(
    session: AsyncSession, code: str, name: str, country: str, bic: str | None
) -> int:
    await session.execute(
        insert_for(session, INSTITUTIONS)
        .values(code=code, name=name, country=country, bic=bic, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["code"])
    )
    return int(
        (
            await session.execute(select(INSTITUTIONS.c.id).where(INSTITUTIONS.c.code == code))
        ).scalar_one()
    )


async def add_connection(
    session: AsyncSession,
    *,
    user_id: int,
    institution_id: int,
    provider: str,
    base_url: str,
    bank_id: str,
    credentials_encrypted: bytes,
    upstream_consent_expires_at: datetime | None = None,
) -> int:
    result = await session.execute(
        CONNECTIONS.insert()
        .values(
            user_id=user_id,
            institution_id=institution_id,
            provider=provider,
            base_url=base_url,
            bank_id=bank_id,
            credentials_encrypted=credentials_encrypted,
            upstream_consent_expires_at=upstream_consent_expires_at,
        )
        .returning(CONNECTIONS.c.id)
    )
    return int(result.scalar_one())


async def link_customer(
    session: AsyncSession,
    *,
    phone: str,
    institution: tuple[str, str, str, str | None],
    provider: str,
    base_url: str,
    bank_id: str,
    credentials_encrypted: bytes,
) -> int:
    """The customer (by phone) and the institution (code, name, country, BIC), created when
    new, and a new connection between them; returns the connection id."""
    user_id = await customers.ensure(session, phone)
    institution_id = await ensure_institution(session, *institution)
    return await add_connection(
        session,
        user_id=user_id,
        institution_id=institution_id,
        provider=provider,
        base_url=base_url,
        bank_id=bank_id,
        credentials_encrypted=credentials_encrypted,
    )


class UnknownConnection(LookupError):
    def __init__(self, connection_id: int) -> None:
        super().__init__(f"no connection {connection_id}")
        self.connection_id = connection_id


async def connection_to(
    session: AsyncSession, *, user_id: int, base_url: str, bank_id: str
) -> int | None:
    """The customer's connection to this bank, when they linked it before."""
    found = await session.execute(
        select(CONNECTIONS.c.id).where(
            CONNECTIONS.c.user_id == user_id,
            CONNECTIONS.c.base_url == base_url,
            CONNECTIONS.c.bank_id == bank_id,
        )
    )
    connection_id = found.scalar_one_or_none()
    return None if connection_id is None else int(connection_id)


async def renew_credentials(
    session: AsyncSession,
    connection_id: int,
    *,
    credentials_encrypted: bytes,
    upstream_consent_expires_at: datetime | None,
) -> None:
    """Fresh credentials (a new bank consent) for a connection, which is usable again."""
    await session.execute(
        update(CONNECTIONS)
        .where(CONNECTIONS.c.id == connection_id)
        .values(
            credentials_encrypted=credentials_encrypted,
            upstream_consent_expires_at=upstream_consent_expires_at,
            status=ACTIVE,
            updated_at=utcnow(),
        )
    )


async def link_bank(
    session: AsyncSession,
    *,
    user_id: int,
    institution: tuple[str, str, str, str | None],
    provider: str,
    base_url: str,
    bank_id: str,
    credentials_encrypted: bytes,
    upstream_consent_expires_at: datetime | None,
) -> int:
    """A customer's bank consent, stored; returns the connection id. Re-linking the same
    bank replaces the connection's credentials instead of adding a second connection
    (which would duplicate every account)."""
    existing = await connection_to(session, user_id=user_id, base_url=base_url, bank_id=bank_id)
    if existing is not None:
        await renew_credentials(
            session,
            existing,
            credentials_encrypted=credentials_encrypted,
            upstream_consent_expires_at=upstream_consent_expires_at,
        )
        return existing
    institution_id = await ensure_institution(session, *institution)
    return await add_connection(
        session,
        user_id=user_id,
        institution_id=institution_id,
        provider=provider,
        base_url=base_url,
        bank_id=bank_id,
        credentials_encrypted=credentials_encrypted,
        upstream_consent_expires_at=upstream_consent_expires_at,
    )


async def ids_of_customer(session: AsyncSession, user_id: int) -> list[int]:
    found = await session.execute(
        select(CONNECTIONS.c.id).where(CONNECTIONS.c.user_id == user_id).order_by(CONNECTIONS.c.id)
    )
    return [int(i) for i in found.scalars()]


async def connection_statuses(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, status) of every connection, oldest first."""
    found = await session.execute(
        select(CONNECTIONS.c.id, CONNECTIONS.c.status).order_by(CONNECTIONS.c.id)
    )
    return [(int(i), status) for i, status in found]


async def connection_target(
    session: AsyncSession, connection_id: int
) -> tuple[str, str, str, bytes]:
    """(provider, base_url, bank_id, encrypted credentials) of a connection; raises
    UnknownConnection when there is none."""
    row = (
        await session.execute(
            select(
                CONNECTIONS.c.provider,
                CONNECTIONS.c.base_url,
                CONNECTIONS.c.bank_id,
                CONNECTIONS.c.credentials_encrypted,
            ).where(CONNECTIONS.c.id == connection_id)
        )
    ).one_or_none()
    if row is None:
        raise UnknownConnection(connection_id)
    return row[0], row[1], row[2], row[3]


async def stored_credentials(session: AsyncSession) -> list[tuple[int, bytes]]:
    """(id, encrypted credentials) of every connection that still holds some, oldest first
    (a purged connection holds none)."""
    found = await session.execute(
        select(CONNECTIONS.c.id, CONNECTIONS.c.credentials_encrypted)
        .where(CONNECTIONS.c.credentials_encrypted != b"")
        .order_by(CONNECTIONS.c.id)
    )
    return [(int(i), bytes(blob)) for i, blob in found]


async def replace_credentials(
    session: AsyncSession, connection_id: int, old: bytes, new: bytes
) -> bool:
    """The same credentials under another key; False (nothing changed) when the stored
    blob is no longer `old` (linked again meanwhile)."""
    replaced = await session.execute(
        update(CONNECTIONS)
        .where(CONNECTIONS.c.id == connection_id, CONNECTIONS.c.credentials_encrypted == old)
        .values(credentials_encrypted=new)
    )
    return bool(replaced.rowcount == 1)  # type: ignore[attr-defined]


async def coverage(session: AsyncSession, connection_id: int) -> tuple[int, frozenset[int]]:
    """(customer id, ledger account ids) of a connection: what a consent must cover to
    reach it. Raises UnknownConnection when there is none."""
    user_id = (
        await session.execute(
            select(CONNECTIONS.c.user_id).where(CONNECTIONS.c.id == connection_id)
        )
    ).scalar_one_or_none()
    if user_id is None:
        raise UnknownConnection(connection_id)
    accounts = await session.execute(
        select(ACCOUNTS.c.id).where(ACCOUNTS.c.connection_id == connection_id)
    )
    return int(user_id), frozenset(int(a) for a in accounts.scalars())


@dataclass(frozen=True, slots=True)
class BankSide:
    """What the connection's own row says about its bank consent."""

    status: str
    bank_consent_expires_at: datetime | None


async def bank_side(session: AsyncSession, connection_id: int) -> BankSide:
    """Raises UnknownConnection when there is none."""
    row = (
        await session.execute(
            select(CONNECTIONS.c.status, CONNECTIONS.c.upstream_consent_expires_at).where(
                CONNECTIONS.c.id == connection_id
            )
        )
    ).one_or_none()
    if row is None:
        raise UnknownConnection(connection_id)
    return BankSide(row[0], row[1])


async def set_status(
    session: AsyncSession,
    connection_id: int,
    status: str,
    *,
    now: datetime,
    unless: Iterable[str] = (),
) -> None:
    """Set the connection's status, leaving it alone while it is in one of `unless`."""
    stmt = update(CONNECTIONS).where(CONNECTIONS.c.id == connection_id)
    keep = list(unless)
    if keep:
        stmt = stmt.where(CONNECTIONS.c.status.not_in(keep))
    await session.execute(stmt.values(status=status, updated_at=now))


async def mark_revoking(
    session: AsyncSession, connection_ids: Iterable[int], *, now: datetime
) -> None:
    """Our side of the customer's revocation: never synced again, and its bank consent is
    to be revoked at the bank (`pending_revocations`). Already revoked ones stay so."""
    for connection_id in connection_ids:
        await set_status(session, connection_id, REVOKING, now=now, unless=ENDED_BY_US)


async def pending_revocations(session: AsyncSession) -> list[int]:
    """Connections whose bank consent still has to be revoked at the bank, oldest first."""
    found = await session.execute(
        select(CONNECTIONS.c.id).where(CONNECTIONS.c.status == REVOKING).order_by(CONNECTIONS.c.id)
    )
    return [int(i) for i in found.scalars()]


async def revoked_at_bank(session: AsyncSession, connection_id: int, *, now: datetime) -> None:
    """The bank no longer honours the connection's consent (it confirmed the revocation,
    or said the consent was already over). Only a pending revocation completes: a
    connection linked again meanwhile keeps its new consent's status."""
    await session.execute(
        update(CONNECTIONS)
        .where(CONNECTIONS.c.id == connection_id, CONNECTIONS.c.status == REVOKING)
        .values(status=REVOKED, updated_at=now)
    )


async def require_reauthentication(
    session: AsyncSession, connection_id: int, *, now: datetime
) -> None:
    await session.execute(
        update(CONNECTIONS)
        .where(CONNECTIONS.c.id == connection_id)
        .values(status=SCA_REQUIRED, updated_at=now)
    )


@dataclass(frozen=True, slots=True)
class CustomerConnection:
    id: int
    institution: str  # the bank's name
    status: str
    last_synced_at: datetime | None
    bank_consent_expires_at: datetime | None = None

    @property
    def renewal_due_at(self) -> datetime | None:
        return renewal_due_at(self.bank_consent_expires_at)


async def of_customer(session: AsyncSession, user_id: int) -> list[CustomerConnection]:
    """The customer's connections, oldest first."""
    found = await session.execute(
        select(
            CONNECTIONS.c.id,
            INSTITUTIONS.c.name,
            CONNECTIONS.c.status,
            CONNECTIONS.c.last_synced_at,
            CONNECTIONS.c.upstream_consent_expires_at,
        )
        .join(INSTITUTIONS, INSTITUTIONS.c.id == CONNECTIONS.c.institution_id)
        .where(CONNECTIONS.c.user_id == user_id)
        .order_by(CONNECTIONS.c.id)
    )
    return [
        CustomerConnection(int(i), name, status, at, until) for i, name, status, at, until in found
    ]
