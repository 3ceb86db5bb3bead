"""One-time codes: OPEN, then USED once or LOCKED; EXPIRED without being stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import consents, customers, one_time_codes
from ledger.one_time_codes import AUTHORISE, EXPIRED, LOCKED, MAX_ATTEMPTS, OPEN, USED

from .factories import connected_account

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# The caller derives the keys (graph: connectors/keys.py); any bytes do here.
KEYS = (b"one-time-code-test-key-" + b"0" * 9,)


async def _consent(s: AsyncSession) -> int:
    await connected_account(s)
    user = await customers.id_by_phone(s, "+992900000001")
    assert user is not None
    return await consents.create(
        s,
        user_id=user,
        client_id=None,
        scopes=frozenset({"accounts:read"}),
        expires_at=NOW + timedelta(minutes=15),
        now=NOW,
    )


async def _issue(s: AsyncSession, consent_id: int, now: datetime = NOW) -> str:
    issued = await one_time_codes.issue(s, consent_id, purpose=AUTHORISE, keys=KEYS, now=now)
    assert isinstance(issued, one_time_codes.Issued)
    return issued.code


async def _verify(s: AsyncSession, consent_id: int, code: str, now: datetime = NOW) -> bool:
    """The code's own rules (the phone's count is graph's sca, tested with its pages)."""
    challenge = await one_time_codes.try_code(
        s, consent_id, code, purpose=AUTHORISE, keys=KEYS, now=now
    )
    return challenge is not None and await one_time_codes.consume(s, challenge, now=now)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_a_code_is_used_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        code = await _issue(s, consent_id)
        latest = await one_time_codes.latest(s, consent_id)
        assert latest is not None and latest.status(NOW) == OPEN
        assert latest.status(NOW + one_time_codes.CODE_TTL) == EXPIRED
        assert await _verify(s, consent_id, code)
        assert not await _verify(s, consent_id, code)  # USED is final
        used = await one_time_codes.latest(s, consent_id)
    assert used is not None and used.status(NOW) == USED and used.attempts == 1


async def test_wrong_tries_lock_a_code(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        code = await _issue(s, consent_id)
        for _ in range(MAX_ATTEMPTS):
            assert not await _verify(s, consent_id, _wrong(code))
        assert not await _verify(s, consent_id, code)
        locked = await one_time_codes.latest(s, consent_id)
    assert locked is not None and locked.status(NOW) == LOCKED
    assert locked.attempts == MAX_ATTEMPTS


async def test_a_new_code_locks_the_old_one_after_the_cool_down(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        old = await _issue(s, consent_id)
        early = await one_time_codes.issue(
            s, consent_id, purpose=AUTHORISE, keys=KEYS, now=NOW + timedelta(seconds=10)
        )
        assert early == one_time_codes.CoolingDown(seconds=20)
        later = NOW + one_time_codes.COOL_DOWN
        new = await _issue(s, consent_id, later)
        if old != new:
            assert not await _verify(s, consent_id, old, later)
        assert await _verify(s, consent_id, new, later)


async def test_an_expired_code_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        code = await _issue(s, consent_id)
        assert not await _verify(s, consent_id, code, NOW + one_time_codes.CODE_TTL)
        expired = await one_time_codes.latest(s, consent_id)
    assert expired is not None and expired.attempts == 0  # refused before counting


async def test_a_locked_phone_is_issued_no_code_until_the_lock_ends(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        user = await customers.id_by_phone(s, "+992900000001")
        assert user is not None
        until = None
        for n in range(one_time_codes.MAX_FAILURES):
            until = await one_time_codes.record_failure(
                s, user, one_time_codes.CODE_FACTOR, now=NOW + timedelta(seconds=n)
            )
        assert until is not None
        during = until - timedelta(seconds=1)
        refused = await one_time_codes.issue(
            s, consent_id, purpose=AUTHORISE, keys=KEYS, now=during
        )
        assert refused == one_time_codes.Locked(until=until)
        assert await one_time_codes.latest(s, consent_id) is None  # nothing stored, nothing sent
        code = await _issue(s, consent_id, until)
        assert await _verify(s, consent_id, code, until)


async def test_a_code_sent_before_a_rotation_still_works_with_the_old_key_kept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    old, new = KEYS[0], b"one-time-code-rotated-key-" + b"1" * 6
    async with sessions.begin() as s:
        consent_id = await _consent(s)
        sent = await one_time_codes.issue(s, consent_id, purpose=AUTHORISE, keys=(old,), now=NOW)
        assert isinstance(sent, one_time_codes.Issued)

        async def check(code: str, keys: tuple[bytes, ...]) -> bool:
            found = await one_time_codes.try_code(
                s, consent_id, code, purpose=AUTHORISE, keys=keys, now=NOW
            )
            return found is not None

        assert not await check(sent.code, (new,))  # the old key removed: the code is void
        assert await check(sent.code, (new, old))  # kept as an old key: still right
        assert not await check(_wrong(sent.code), (new, old))
        # A new code is hashed with the current (first) key only.
        later = NOW + one_time_codes.COOL_DOWN
        fresh = await one_time_codes.issue(
            s, consent_id, purpose=AUTHORISE, keys=(new, old), now=later
        )
        assert isinstance(fresh, one_time_codes.Issued)
        newest = await one_time_codes.latest(s, consent_id)
    assert newest is not None
    assert newest.code_hash == one_time_codes.code_hash(
        new, purpose=AUTHORISE, consent_id=consent_id, code=fresh.code
    )
