"""The bank consent's life as the ledger records it: our stored expiry stops syncs without a
call, our revocation ends the connections no other usable consent covers, and linking
again revives them. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import connections, consents
from ledger.consents import SyncRefusal
from ledger.sync_store import Trigger

from .factories import connected_account

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def _consent(s: AsyncSession, user_id: int, *, accounts: frozenset[int] = frozenset()) -> int:
    at = NOW - timedelta(days=1)
    consent_id = await consents.create(
        s, user_id=user_id, client_id=None, scopes=frozenset({"accounts:read"}),
        expires_at=at + timedelta(days=90), now=at,
    )  # fmt: skip
    await consents.authorise(
        s, consent_id, account_ids=accounts, expires_at=at + timedelta(days=90), now=at
    )
    return consent_id


async def _decide(s: AsyncSession, connection_id: int, at: datetime = NOW) -> consents.SyncDecision:
    return await consents.sync_decision(s, connection_id, trigger=Trigger.UNATTENDED, now=at)


async def _status(s: AsyncSession, connection_id: int) -> str:
    return (await connections.bank_side(s, connection_id)).status


async def test_a_passed_bank_expiry_refuses_without_a_call_and_shows_on_the_connection(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id, _ = await connections.coverage(s, connection_id)
        await _consent(s, user_id)
        ends = NOW + timedelta(days=30)
        await connections.renew_credentials(
            s, connection_id, credentials_encrypted=b"c", upstream_consent_expires_at=ends
        )
        before = await consents.admit_sync(
            s, connection_id, trigger=Trigger.UNATTENDED, now=ends - timedelta(seconds=1)
        )
        at_end = await consents.admit_sync(s, connection_id, trigger=Trigger.UNATTENDED, now=ends)
        status = await _status(s, connection_id)
        (shown,) = await connections.of_customer(s, user_id)

    assert before.allowed
    assert not at_end.allowed and at_end.refusal is SyncRefusal.BANK_CONSENT_EXPIRED
    assert at_end.next_at is None and "link the bank again" in at_end.reason
    assert status == connections.BANK_CONSENT_EXPIRED
    assert shown.bank_consent_expires_at == ends
    assert shown.renewal_due_at == ends - timedelta(days=14)


async def test_a_bank_side_refusal_status_stops_syncs_until_linked_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id, _ = await connections.coverage(s, connection_id)
        await _consent(s, user_id)
        decided = {}
        for status in (connections.BANK_CONSENT_REVOKED, connections.BANK_CONSENT_EXPIRED):
            await connections.set_status(s, connection_id, status, now=NOW)
            decided[status] = (await _decide(s, connection_id)).refusal
        await connections.renew_credentials(
            s, connection_id, credentials_encrypted=b"c", upstream_consent_expires_at=None
        )
        relinked = await _decide(s, connection_id)
        status_after = await _status(s, connection_id)

    assert decided == {
        connections.BANK_CONSENT_REVOKED: SyncRefusal.BANK_CONSENT_REVOKED,
        connections.BANK_CONSENT_EXPIRED: SyncRefusal.BANK_CONSENT_EXPIRED,
    }
    assert relinked.allowed and status_after == connections.ACTIVE


async def test_our_revocation_ends_only_connections_no_other_usable_consent_covers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, account_id = await connected_account(s)
        user_id, _ = await connections.coverage(s, connection_id)
        first = await _consent(s, user_id)
        second = await _consent(s, user_id, accounts=frozenset({account_id}))
        await consents.transition(s, first, consents.REVOKED, now=NOW)
        still_covered = await _status(s, connection_id)
        pending_before = await connections.pending_revocations(s)
        await consents.transition(s, second, consents.REVOKED, now=NOW)
        ended = await _status(s, connection_id)
        pending = await connections.pending_revocations(s)
        refused = await _decide(s, connection_id)
        await connections.revoked_at_bank(s, connection_id, now=NOW)
        done = await _status(s, connection_id)
        pending_after = await connections.pending_revocations(s)

    assert still_covered == connections.ACTIVE and pending_before == []
    assert ended == connections.REVOKING and pending == [connection_id]
    assert refused.refusal is SyncRefusal.CONNECTION_REVOKED
    assert done == connections.REVOKED and pending_after == []


async def test_a_relink_while_the_bank_revocation_is_pending_keeps_the_new_consent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id, _ = await connections.coverage(s, connection_id)
        await consents.transition(s, await _consent(s, user_id), consents.REVOKED, now=NOW)
        await connections.renew_credentials(
            s, connection_id, credentials_encrypted=b"new", upstream_consent_expires_at=None
        )
        # A late answer for the old bank consent must not end the new one.
        await connections.revoked_at_bank(s, connection_id, now=NOW)
        status = await _status(s, connection_id)

    assert status == connections.ACTIVE
