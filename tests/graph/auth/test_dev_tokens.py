"""Development tokens make a legal consent: created, then authorised with SCA recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.keys import Keyring
from graph.auth.oauth.tokens import verify_access_token
from graph.cli.dev.tokens import CONSENT_LIFETIME, issue_development_token
from ledger import consents
from ledger.models import Consent
from ledger.types import utcnow

from ...ledger.factories import connected_account

NOW = utcnow().replace(microsecond=0)  # the token must verify today
SECRET = "development-token-test-secret-of-32-bytes"
KEYS = Keyring(SECRET)
PHONE = "+992900000001"  # the factory's customer


async def _issue(s: AsyncSession, phone: str = PHONE, account_ids: list[int] | None = None):
    return await issue_development_token(
        s,
        phone=phone,
        scopes=frozenset({"accounts:read", "balances:read"}),
        account_ids=account_ids or [],
        keys=KEYS,
        now=NOW,
        ttl=timedelta(minutes=10),
    )


async def test_a_development_consent_goes_through_the_lifecycle(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _conn, account = await connected_account(s)
        issued = await _issue(s, account_ids=[account])
    assert not issued.created_user
    claims = verify_access_token(KEYS, issued.token, now=NOW)
    assert (claims.user_id, claims.consent_id, claims.grant_id) == (
        issued.user_id,
        issued.consent_id,
        None,
    )
    async with sessions.begin() as s:
        row = (await s.execute(select(Consent))).scalar_one()
        state = await consents.load(s, issued.consent_id)
        assert state is not None and state.usable(NOW)
        assert state.account_ids == {account} and state.client_id is None
        assert (row.sca_at, row.created_at, row.expires_at) == (NOW, NOW, NOW + CONSENT_LIFETIME)
        # A legal consent: it can be revoked, once.
        await consents.transition(s, issued.consent_id, consents.REVOKED, now=NOW)
        with pytest.raises(consents.IllegalTransition):
            await consents.transition(s, issued.consent_id, consents.REVOKED, now=NOW)


async def test_a_new_phone_gets_a_customer_and_foreign_accounts_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _conn, account = await connected_account(s)
        issued = await _issue(s, phone="+992900000009")
    assert issued.created_user
    with pytest.raises(ValueError, match=f"not accounts of \\+992900000009: {account}"):
        async with sessions.begin() as s:
            await _issue(s, phone="+992900000009", account_ids=[account])
    with pytest.raises(ValueError, match="must look like"):
        async with sessions.begin() as s:
            await _issue(s, phone="900000009")
