"""Grants and refresh tokens: each code redeemed once, each token rotated once, each grant
revoked once, even when two requests race (a stale read loses at the conditional UPDATE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import clients, consents, customers, grants
from ledger.models import AuthorizationGrant, RefreshToken

from .factories import connected_account

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


async def _grant(s: AsyncSession) -> tuple[int, int, str]:
    """(client pk, consent id, code) of a fresh grant over an authorised consent."""
    await connected_account(s)
    user = await customers.id_by_phone(s, "+992900000001")
    assert user is not None
    client = await clients.register(
        s,
        client_id="app_test",
        name="Test app",
        secret_hash="-",
        redirect_uris=["https://app.example/cb"],
        allowed_scopes=frozenset({"accounts:read"}),
        now=NOW,
    )
    consent_id = await consents.create(
        s,
        user_id=user,
        client_id=client.id,
        scopes=frozenset({"accounts:read"}),
        expires_at=NOW + timedelta(days=1),
        now=NOW,
    )
    await consents.authorise(
        s, consent_id, account_ids=frozenset(), expires_at=NOW + timedelta(days=1), now=NOW
    )
    code = await grants.create(
        s,
        client_id=client.id,
        consent_id=consent_id,
        redirect_uri="https://app.example/cb",
        code_challenge=CHALLENGE,
        now=NOW,
    )
    return client.id, consent_id, code


async def test_a_code_is_stored_as_a_digest_and_redeemed_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        client_pk, consent_id, code = await _grant(s)
    async with sessions.begin() as s:
        grant = await grants.by_code(s, code)
        assert grant is not None
        assert (grant.client_id, grant.consent_id, grant.code_used_at) == (
            client_pk,
            consent_id,
            None,
        )
        assert grant.code_expires_at == NOW + grants.CODE_TTL
        stored = (await s.execute(select(AuthorizationGrant.code_hash))).scalar_one()
        assert code not in stored and stored == grants.digest(code)
        assert await grants.by_code(s, code + "x") is None
        assert await grants.client_of(s, grant.id) == client_pk
        assert await grants.redeem_code(s, grant.id, now=NOW)
        assert not await grants.redeem_code(s, grant.id, now=NOW)  # a replay


async def test_of_two_racing_redemptions_one_wins(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _client, _consent, code = await _grant(s)
    async with sessions() as first, sessions() as second:
        # Both read the code as unused before either redeems it.
        seen_first, seen_second = (
            await grants.by_code(first, code),
            await grants.by_code(second, code),
        )
        assert seen_first and seen_second and seen_second.code_used_at is None
        await second.commit()
        assert await grants.redeem_code(first, seen_first.id, now=NOW)
        await first.commit()
        assert not await grants.redeem_code(second, seen_second.id, now=NOW)


async def test_a_grant_is_revoked_once_and_its_code_can_still_be_burnt(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _client, _consent, code = await _grant(s)
        grant = await grants.by_code(s, code)
        assert grant is not None
        assert await grants.revoke(s, grant.id, now=NOW)
        assert not await grants.revoke(s, grant.id, now=NOW + timedelta(seconds=1))
        # Independent one-way changes: burning the code of a revoked grant is not a replay.
        assert await grants.redeem_code(s, grant.id, now=NOW)
        after = await grants.by_code(s, code)
    assert after is not None and after.revoked_at == NOW and after.code_used_at == NOW


async def test_a_refresh_token_is_rotated_once_even_racing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        client_pk, consent_id, code = await _grant(s)
        grant = await grants.by_code(s, code)
        assert grant is not None
        token = await grants.issue_refresh_token(
            s, grant.id, consent_expires_at=NOW + timedelta(days=1), now=NOW
        )
    async with sessions() as first, sessions() as second:
        a, b = (
            await grants.by_refresh_token(first, token),
            await grants.by_refresh_token(second, token),
        )
        assert a is not None and b is not None and a == b
        assert (a.grant_id, a.client_id, a.consent_id, a.used_at) == (
            grant.id,
            client_pk,
            consent_id,
            None,
        )
        await second.commit()
        assert await grants.rotate(first, a.id, now=NOW)
        await first.commit()
        assert not await grants.rotate(second, b.id, now=NOW)  # a reuse
        await second.commit()
    async with sessions() as s:
        stored = (await s.execute(select(RefreshToken.token_hash))).scalar_one()
        assert token not in stored
        assert await grants.by_refresh_token(s, "unknown") is None


async def test_a_refresh_token_never_outlives_its_consent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _client, _consent, code = await _grant(s)
        grant = await grants.by_code(s, code)
        assert grant is not None
        short = await grants.issue_refresh_token(
            s, grant.id, consent_expires_at=NOW + timedelta(hours=1), now=NOW
        )
        long = await grants.issue_refresh_token(
            s, grant.id, consent_expires_at=NOW + timedelta(days=365), now=NOW
        )
        short_state = await grants.by_refresh_token(s, short)
        long_state = await grants.by_refresh_token(s, long)
    assert short_state is not None and short_state.expires_at == NOW + timedelta(hours=1)
    assert long_state is not None and long_state.expires_at == NOW + grants.REFRESH_TTL


async def test_revoking_shows_on_the_refresh_token(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _client, _consent, code = await _grant(s)
        grant = await grants.by_code(s, code)
        assert grant is not None
        token = await grants.issue_refresh_token(
            s, grant.id, consent_expires_at=NOW + timedelta(days=1), now=NOW
        )
        await grants.revoke(s, grant.id, now=NOW)
        state = await grants.by_refresh_token(s, token)
    assert state is not None and state.grant_revoked_at == NOW
