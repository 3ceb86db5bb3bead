"""Authorization grants and their refresh tokens: issuing, redeeming, rotating, revoking.

A grant is one authorization code and everything issued from it. Codes and refresh tokens
are random and stored only as SHA-256 digests.

Every change here is one-way and happens at most once: a grant's code is redeemed once, a
refresh token is rotated once, a grant is revoked once. Each is a NULL column stamped by a
conditional UPDATE, so of two racing requests exactly one wins and the other learns it came
second (for a code or a refresh token: a replay, which the OAuth server answers by revoking
the grant). The three are independent: a revoked grant's code can still be burnt.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import AuthorizationGrant, RefreshToken, table

GRANTS = table(AuthorizationGrant)
REFRESH = table(RefreshToken)

CODE_TTL = timedelta(seconds=60)
REFRESH_TTL = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    client_id: int
    consent_id: int
    redirect_uri: str
    code_challenge: str
    code_expires_at: datetime
    code_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Refresh:
    """A refresh token with what its grant says about it."""

    id: int
    grant_id: int
    client_id: int
    consent_id: int
    expires_at: datetime
    used_at: datetime | None
    grant_revoked_at: datetime | None


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def create(
    session: AsyncSession,
    *,
    client_id: int,
    consent_id: int,
    redirect_uri: str,
    code_challenge: str,
    now: datetime,
) -> str:
    """A new grant and its single-use authorization code; the caller commits."""
    code = secrets.token_urlsafe(32)
    await session.execute(
        GRANTS.insert().values(
            code_hash=digest(code),
            client_id=client_id,
            consent_id=consent_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            created_at=now,
            code_expires_at=now + CODE_TTL,
        )
    )
    return code


async def by_code(session: AsyncSession, code: str) -> Grant | None:
    row = (
        await session.execute(select(AuthorizationGrant).where(GRANTS.c.code_hash == digest(code)))
    ).scalar_one_or_none()
    if row is None:
        return None
    return Grant(
        id=int(row.id or 0),
        client_id=row.client_id,
        consent_id=row.consent_id,
        redirect_uri=row.redirect_uri,
        code_challenge=row.code_challenge,
        code_expires_at=row.code_expires_at,
        code_used_at=row.code_used_at,
        revoked_at=row.revoked_at,
    )


async def client_of(session: AsyncSession, grant_id: int) -> int | None:
    """The client (primary key) a grant was issued to."""
    owner = (
        await session.execute(select(GRANTS.c.client_id).where(GRANTS.c.id == grant_id))
    ).scalar_one_or_none()
    return int(owner) if owner is not None else None


async def redeem_code(session: AsyncSession, grant_id: int, *, now: datetime) -> bool:
    """Burn the grant's code; False when it was burnt already (a replay)."""
    return await _stamp_once(session, GRANTS.c.code_used_at, grant_id, now)


async def revoke(session: AsyncSession, grant_id: int, *, now: datetime) -> bool:
    """Revoke the grant (its refresh tokens and access tokens with it); False when it was
    revoked already."""
    return await _stamp_once(session, GRANTS.c.revoked_at, grant_id, now)


async def issue_refresh_token(
    session: AsyncSession, grant_id: int, *, consent_expires_at: datetime, now: datetime
) -> str:
    """A new refresh token of the grant; it never outlives the consent. The caller commits."""
    token = secrets.token_urlsafe(32)
    await session.execute(
        REFRESH.insert().values(
            token_hash=digest(token),
            grant_id=grant_id,
            created_at=now,
            expires_at=min(now + REFRESH_TTL, consent_expires_at),
        )
    )
    return token


async def by_refresh_token(session: AsyncSession, token: str) -> Refresh | None:
    row = (
        await session.execute(
            select(REFRESH, GRANTS.c.client_id, GRANTS.c.consent_id, GRANTS.c.revoked_at)
            .join(GRANTS, GRANTS.c.id == REFRESH.c.grant_id)
            .where(REFRESH.c.token_hash == digest(token))
        )
    ).one_or_none()
    if row is None:
        return None
    return Refresh(
        id=row.id,
        grant_id=row.grant_id,
        client_id=row.client_id,
        consent_id=row.consent_id,
        expires_at=row.expires_at,
        used_at=row.used_at,
        grant_revoked_at=row.revoked_at,
    )


async def rotate(session: AsyncSession, refresh_id: int, *, now: datetime) -> bool:
    """Use up a refresh token (its successor is issued by the caller); False when it was
    used already (a reuse)."""
    return await _stamp_once(session, REFRESH.c.used_at, refresh_id, now)


async def _stamp_once(
    session: AsyncSession, column: Column[datetime], row_id: int, now: datetime
) -> bool:
    """Set a NULL timestamp column of one row; False when it was set already."""
    rows = column.table
    result = await session.execute(
        update(rows).where(rows.c.id == row_id, column.is_(None)).values({column.name: now})
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
