"""The token endpoint's grants: exchanging a code, refreshing, revoking (RFC 6749, 7009).

The grant and refresh-token rules (single use, one revocation, digests only) live in
ledger/grants.py; this module checks a request against them and signs the access token.
Revoking a grant (a replayed code, a reused refresh token, `/auth/revoke`) ends its refresh
tokens at once and its access tokens on their next use (the API checks the token's `gid`).

Refusals are returned, not raised: a replay must revoke the grant AND answer an error, and
the caller commits both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.keys import Keyring
from graph.auth.oauth import pkce
from graph.auth.oauth.errors import InvalidGrant, InvalidScope, OAuthError
from graph.auth.oauth.tokens import InvalidToken, issue_access_token, verify_access_token
from ledger import consents, grants
from ledger.consents import ConsentState


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
    error: type[OAuthError]  # InvalidGrant | InvalidScope, raised once the caller commits
    reason: str  # for the log and the audit, never for the client
    grant_id: int | None = None
    consent_id: int | None = None
    revoked_grant: bool = False  # a replay or reuse: the grant and its tokens are now dead


async def exchange_code(
    session: AsyncSession,
    *,
    client_pk: int,
    code: str,
    redirect_uri: str,
    verifier: str,
    keys: Keyring,
    now: datetime,
    access_ttl: timedelta,
) -> Issued | Refused:
    grant = await grants.by_code(session, code)
    if grant is None or grant.client_id != client_pk:
        return Refused(InvalidGrant, "unknown code")
    ids = (grant.id, grant.consent_id)
    # Any attempt burns the code, so a stolen one cannot be tried against PKCE repeatedly.
    if not await grants.redeem_code(session, grant.id, now=now):
        await grants.revoke(session, grant.id, now=now)
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
    return await _issue(session, grant.id, consent, consent.scopes, keys, now, access_ttl)


async def refresh(
    session: AsyncSession,
    *,
    client_pk: int,
    refresh_token: str,
    scope: frozenset[str] | None,
    keys: Keyring,
    now: datetime,
    access_ttl: timedelta,
) -> Issued | Refused:
    """Rotate: the presented token is used up; a second use revokes the whole grant."""
    presented = await grants.by_refresh_token(session, refresh_token)
    if presented is None or presented.client_id != client_pk:
        return Refused(InvalidGrant, "unknown refresh token")
    ids = (presented.grant_id, presented.consent_id)
    consent = await consents.load(session, presented.consent_id)
    if consent is not None and scope is not None and not scope <= consent.scopes:
        return Refused(InvalidScope, "scope beyond the consent", *ids)
    if not await grants.rotate(session, presented.id, now=now):
        await grants.revoke(session, presented.grant_id, now=now)
        return _invalid("refresh token reused: grant revoked", *ids, revoked=True)
    if presented.grant_revoked_at is not None:
        return _invalid("grant revoked", *ids)
    if now >= presented.expires_at:
        return _invalid("refresh token expired", *ids)
    if consent is None or not consent.usable(now):
        return _invalid("consent not usable", *ids)
    return await _issue(
        session, presented.grant_id, consent, scope or consent.scopes, keys, now, access_ttl
    )


async def revoke_token(
    session: AsyncSession, *, client_pk: int, token: str, keys: Keyring, now: datetime
) -> int | None:
    """RFC 7009: revoke the grant behind a refresh or access token of this client. Returns
    the grant id, or None when the token is unknown (which the endpoint does not reveal)."""
    presented = await grants.by_refresh_token(session, token)
    grant_id = presented.grant_id if presented is not None else None
    if grant_id is None:
        try:
            grant_id = verify_access_token(keys, token, now=now).grant_id
        except InvalidToken:
            return None
    if grant_id is None:
        return None
    if await grants.client_of(session, grant_id) != client_pk:
        return None
    await grants.revoke(session, grant_id, now=now)
    return grant_id


def _invalid(reason: str, grant_id: int, consent_id: int, *, revoked: bool = False) -> Refused:
    return Refused(InvalidGrant, reason, grant_id, consent_id, revoked_grant=revoked)


async def _issue(
    session: AsyncSession,
    grant_id: int,
    consent: ConsentState,
    scopes: frozenset[str],
    keys: Keyring,
    now: datetime,
    access_ttl: timedelta,
) -> Issued:
    refresh_token = await grants.issue_refresh_token(
        session, grant_id, consent_expires_at=consent.expires_at, now=now
    )
    access = issue_access_token(
        keys,
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
