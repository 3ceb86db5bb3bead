"""The consent limits on syncing (ledger/consents.py, sync_decision), on both databases:
which consents let a connection be synced, the 180-day SCA, four unattended runs a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import connections, consents
from ledger import sync_store as store
from ledger.consents import SyncRefusal
from ledger.models import Connection, SyncRun, table
from ledger.sync_store import Trigger

from .factories import connected_account

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def _consent(
    s: AsyncSession,
    user_id: int,
    *,
    at: datetime,
    accounts: frozenset[int] = frozenset(),
    lasting: timedelta = timedelta(days=365),
    status: str = consents.AUTHORISED,
) -> int:
    """A consent given at `at` (its SCA then), moved to `status`."""
    consent_id = await consents.create(
        s, user_id=user_id, client_id=None, scopes=frozenset({"accounts:read"}),
        expires_at=at + lasting, now=at,
    )  # fmt: skip
    if status == consents.AWAITING:
        return consent_id
    if status == consents.REJECTED:
        await consents.transition(s, consent_id, consents.REJECTED, now=at)
        return consent_id
    await consents.authorise(s, consent_id, account_ids=accounts, expires_at=at + lasting, now=at)
    if status == consents.REVOKED:
        await consents.transition(s, consent_id, consents.REVOKED, now=at)
    return consent_id


async def _owner(s: AsyncSession, connection_id: int) -> int:
    user_id, _ = await connections.coverage(s, connection_id)
    return user_id


async def _run(s: AsyncSession, connection_id: int, at: datetime, trigger: Trigger) -> None:
    """A recorded run started at `at`, finished at once."""
    run_id = await store.start_run(s, connection_id, now=at, lease=LEASE, trigger=trigger)
    assert run_id is not None
    await store.finish_run(s, run_id, store.RunStats(), status="SUCCEEDED", now=at)


async def _decide(
    s: AsyncSession, connection_id: int, trigger: Trigger = Trigger.UNATTENDED, **kw: object
) -> consents.SyncDecision:
    return await consents.sync_decision(s, connection_id, trigger=trigger, now=NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status", [consents.AWAITING, consents.REJECTED, consents.REVOKED, "past expiry"]
)
async def test_only_a_usable_consent_lets_a_connection_be_synced(
    sessions: async_sessionmaker[AsyncSession], status: str
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id = await _owner(s, connection_id)
        if status == "past expiry":
            await _consent(s, user_id, at=NOW - timedelta(days=30), lasting=timedelta(days=29))
        else:
            await _consent(s, user_id, at=NOW - timedelta(days=1), status=status)
        refused = await _decide(s, connection_id)
        refused_present = await _decide(s, connection_id, Trigger.CUSTOMER)
        await _consent(s, user_id, at=NOW - timedelta(days=1))
        if status == consents.REVOKED:
            # The revocation also ended the connection's bank consent: a new consent of
            # ours needs a new one at the bank (linking again) too.
            assert not (await _decide(s, connection_id)).allowed
            await connections.renew_credentials(
                s, connection_id, credentials_encrypted=b"new", upstream_consent_expires_at=None
            )
        allowed = await _decide(s, connection_id)

    expected = (
        SyncRefusal.CONNECTION_REVOKED
        if status == consents.REVOKED
        else SyncRefusal.NO_USABLE_CONSENT
    )
    for decision in (refused, refused_present):
        assert not decision.allowed
        assert decision.refusal is expected
        assert decision.next_at is None  # waiting cannot help
    assert allowed.allowed and allowed.refusal is None and allowed.next_at == NOW
    assert "consent" in refused.reason and allowed.reason == ""


async def test_a_consent_covers_a_connection_through_its_accounts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, account_id = await connected_account(s)
        user_id = await _owner(s, connection_id)
        elsewhere = await _consent(s, user_id, at=NOW, accounts=frozenset({account_id + 1000}))
        other_bank = await _decide(s, connection_id)
        named = await _consent(s, user_id, at=NOW, accounts=frozenset({account_id}))
        by_account = await _decide(s, connection_id)
        through_elsewhere = await _decide(s, connection_id, Trigger.CUSTOMER, through=elsewhere)

    assert other_bank.refusal is SyncRefusal.NO_USABLE_CONSENT
    assert by_account.allowed and by_account.consent_id == named
    # A present customer acts through their token's consent alone.
    assert through_elsewhere.refusal is SyncRefusal.NO_USABLE_CONSENT


@pytest.mark.parametrize(("days", "allowed"), [(179, True), (180, True), (181, False)])
async def test_unattended_access_needs_sca_within_180_days(
    sessions: async_sessionmaker[AsyncSession], days: int, allowed: bool
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id = await _owner(s, connection_id)
        await _consent(s, user_id, at=NOW - timedelta(days=days))
        decision = await consents.admit_sync(s, connection_id, trigger=Trigger.UNATTENDED, now=NOW)
        status = (
            await s.execute(
                select(table(Connection).c.status).where(table(Connection).c.id == connection_id)
            )
        ).scalar_one()

    assert decision.allowed is allowed
    if allowed:
        assert status == "ACTIVE"
    else:
        assert decision.refusal is SyncRefusal.SCA_EXPIRED and decision.next_at is None
        assert "authenticate again" in decision.reason
        assert status == connections.SCA_REQUIRED


async def test_the_fifth_unattended_sync_in_24_hours_is_refused_but_a_present_refresh_passes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = NOW - timedelta(hours=20)
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        await _consent(s, await _owner(s, connection_id), at=NOW - timedelta(days=2))
        for hours in (20, 15, 10, 5):
            assert (await _decide(s, connection_id)).allowed
            await _run(s, connection_id, NOW - timedelta(hours=hours), Trigger.UNATTENDED)
        fifth = await _decide(s, connection_id)
        present = await _decide(s, connection_id, Trigger.CUSTOMER)
        await _run(s, connection_id, NOW, Trigger.CUSTOMER)
        await _run(s, connection_id, NOW, Trigger.LINK)
        still = await _decide(s, connection_id)
        again_present = await _decide(s, connection_id, Trigger.CUSTOMER)
        later = await consents.sync_decision(
            s, connection_id, trigger=Trigger.UNATTENDED, now=first + timedelta(hours=24)
        )
        triggers = (await s.execute(select(table(SyncRun).c.trigger))).scalars().all()

    assert not fifth.allowed and fifth.refusal is SyncRefusal.DAILY_LIMIT
    # The oldest of the four leaves the rolling window 24 hours after it started.
    assert fifth.next_at == first + timedelta(hours=24)
    assert "four unattended syncs" in fifth.reason and fifth.next_at.isoformat()[:16] in (
        fifth.reason
    )
    assert present.allowed
    # The present refresh and the linking read did not count towards the four.
    assert still.refusal is SyncRefusal.DAILY_LIMIT and still.next_at == fifth.next_at
    # A present refresh has its own pace.
    assert again_present.refusal is SyncRefusal.REFRESHED_RECENTLY
    assert again_present.next_at == NOW + consents.REFRESH_INTERVAL
    assert later.allowed
    assert sorted(triggers) == ["CUSTOMER", "LINK"] + ["UNATTENDED"] * 4


async def test_runs_before_a_consent_was_given_were_not_made_under_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        connection_id, _ = await connected_account(s)
        user_id = await _owner(s, connection_id)
        await _consent(s, user_id, at=NOW - timedelta(days=2))
        for hours in (8, 7, 6, 5):
            await _run(s, connection_id, NOW - timedelta(hours=hours), Trigger.UNATTENDED)
        used_up = await _decide(s, connection_id)
        newer = await _consent(s, user_id, at=NOW - timedelta(hours=6, minutes=30))
        under_newer = await _decide(s, connection_id)

    assert used_up.refusal is SyncRefusal.DAILY_LIMIT
    # The newer consent has seen two unattended runs (6 h and 5 h ago) of its four.
    assert under_newer.allowed and under_newer.consent_id == newer


async def test_a_decision_about_an_unknown_connection_is_a_lookup_error(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s:
        with pytest.raises(connections.UnknownConnection):
            await _decide(s, 4242)
