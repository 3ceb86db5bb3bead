"""Authorization codes and refresh tokens: issuing, redeeming, rotating, revoking.

Codes and refresh tokens are random and stored only as SHA-256 digests. A grant is one
authorization code and everything issued from it; revoking the grant (a replayed code, a
reused refresh token, `/auth/revoke`) ends its refresh tokens at once and its access tokens
on their next use (the API checks the token's `gid`).

Refusals are returned, not raised: a replay must revoke the grant AND answer an error, and
the caller commits both.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.oauth import pkce
from graph.auth.oauth.tokens import InvalidToken, issue_access_token, verify_access_token
from ledger import consents
from ledger.consents import ConsentState
from ledger.models import AuthorizationGrant, RefreshToken, table

GRANTS = table(AuthorizationGrant)
REFRESH = table(RefreshToken)

CODE_TTL = timedelta(seconds=60)
REFRESH_TTL = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Issued:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str
    grant_id: int
    consent_id: int
    user_id: int

    def body(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }


@dataclass(frozen=True, slots=True)
class Refused:
    error: str  # invalid_grant | invalid_scope
    reason: str  # for the log and the audit, never for the client
    grant_id: int | None = None
    consent_id: int | None = None
    revoked_grant: bool = False  # a replay or reuse: the grant and its tokens are now dead


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
    """A new single-use authorization code for an authorised consent; the caller commits."""
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


async def revoke(session: AsyncSession, grant_id: int, *, now: datetime) -> None:
    await session.execute(
        update(GRANTS)
        .where(GRANTS.c.id == grant_id, GRANTS.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def exchange_code(
    session: AsyncSession,
    *,
    client_pk: int,
    code: str,
    redirect_uri: str,
    verifier: str,
    secret: str,
    now: datetime,
    access_ttl: timedelta,
) -> Issued | Refused:
    grant = (
        await session.execute(select(AuthorizationGrant).where(GRANTS.c.code_hash == digest(code)))
    ).scalar_one_or_none()
    if grant is None or grant.client_id != client_pk:
        return Refused("invalid_grant", "unknown code")
    grant_id = int(grant.id or 0)
    ids = (grant_id, grant.consent_id)
    # Any attempt burns the code, so a stolen one cannot be tried against PKCE repeatedly.
    if not await _use_up(session, GRANTS.c.code_used_at, grant_id, now):
        await revoke(session, grant_id, now=now)
        return _invalid("code replayed: grant revoked", *ids, revoked=True)
    if grant.revoked_at is not None:
        return _invalid("grant revoked", *ids)
    if now >= grant.code_expires_at:
        return _invalid("code expired", *ids)
    if redirect_uri != grant.redirect_uri:
        return _invalid("redirect_uri does not match", *ids)
    if not pkce.verify(verifier, grant.code_challenge):
        return _invalid("PKCE verification failed", *ids)
    consent = await consents.load(session, grant.consent_id)
    if consent is None or not consent.usable(now):
        return _invalid("consent not usable", *ids)
    return await _issue(session, grant_id, consent, consent.scopes, secret, now, access_ttl)


async def refresh(
    session: AsyncSession,
    *,
    client_pk: int,
    refresh_token: str,
    scope: frozenset[str] | None,
    secret: str,
    now: datetime,
    access_ttl: timedelta,
) -> Issued | Refused:
    """Rotate: the presented token is used up; a second use revokes the whole grant."""
    row = (
        await session.execute(
            select(REFRESH, GRANTS.c.client_id, GRANTS.c.consent_id, GRANTS.c.revoked_at)
            .join(GRANTS, GRANTS.c.id == REFRESH.c.grant_id)
            .where(REFRESH.c.token_hash == digest(refresh_token))
        )
    ).one_or_none()
    if row is None or row.client_id != client_pk:
        return Refused("invalid_grant", "unknown refresh token")
    ids = (row.grant_id, row.consent_id)
    consent = await consents.load(session, row.consent_id)
    if consent is not None and scope is not None and not scope <= consent.scopes:
        return Refused("invalid_scope", "scope beyond the consent", row.grant_id, row.consent_id)
    if not await _use_up(session, REFRESH.c.used_at, row.id, now):
        await revoke(session, row.grant_id, now=now)
        return _invalid("refresh token reused: grant revoked", *ids, revoked=True)
    if row.revoked_at is not None:
        return _invalid("grant revoked", *ids)
    if now >= row.expires_at:
        return _invalid("refresh token expired", *ids)
    if consent is None or not consent.usable(now):
        return _invalid("consent not usable", *ids)
    return await _issue(
        session, row.grant_id, consent, scope or consent.scopes, secret, now, access_ttl
    )


async def revoke_token(
    session: AsyncSession, *, client_pk: int, token: str, secret: str, now: datetime
) -> int | None:
    """RFC 7009: revoke the grant behind a refresh or access token of this client. Returns
    the grant id, or None when the token is unknown (which the endpoint does not reveal)."""
    grant_id = (
        await session.execute(
            select(REFRESH.c.grant_id).where(REFRESH.c.token_hash == digest(token))
        )
    ).scalar_one_or_none()
    if grant_id is None:
        try:
            grant_id = verify_access_token(secret, token).grant_id
        except InvalidToken:
            return None
    if grant_id is None:
        return None
    owner = (
        await session.execute(select(GRANTS.c.client_id).where(GRANTS.c.id == grant_id))
    ).scalar_one_or_none()
    if owner != client_pk:
        return None
    await revoke(session, grant_id, now=now)
    return int(grant_id)


async def _use_up(
    session: AsyncSession, used_at: Column[datetime], row_id: int, now: datetime
) -> bool:
    """Stamp a single-use secret's `used_at` column; False when it was used already."""
    table = used_at.table
    result = await session.execute(
        update(table).where(table.c.id == row_id, used_at.is_(None)).values({used_at.name: now})
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _invalid(reason: str, grant_id: int, consent_id: int, *, revoked: bool = False) -> Refused:
    return Refused("invalid_grant", reason, grant_id, consent_id, revoked_grant=revoked)


async def _issue(
    session: AsyncSession,
    grant_id: int,
    consent: ConsentState,
    scopes: frozenset[str],
    secret: str,
    now: datetime,
    access_ttl: timedelta,
) -> Issued:
    refresh_token = secrets.token_urlsafe(32)
    await session.execute(
        REFRESH.insert().values(
            token_hash=digest(refresh_token),
            grant_id=grant_id,
            created_at=now,
            expires_at=min(now + REFRESH_TTL, consent.expires_at),
        )
    )
    access = issue_access_token(
        secret,
        user_id=consent.user_id,
        consent_id=consent.id,
        scopes=scopes,
        now=now,
        ttl=access_ttl,
        grant_id=grant_id,
    )
    return Issued(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=int(access_ttl.total_seconds()),
        scope=" ".join(sorted(scopes)),
        grant_id=grant_id,
        consent_id=consent.id,
        user_id=consent.user_id,
    )
