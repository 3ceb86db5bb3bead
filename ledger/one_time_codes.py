"""One-time codes for strong customer authentication, bound to one consent.

Six digits from the CSPRNG, stored only as an HMAC under a key of its own (derived by the
caller from the server secret: a stolen database does not let anyone try the million codes
offline). The caller passes its keys current first: the first hashes a new code, and a code
is checked against every one, so rotating the secret does not void codes already sent.
A code is valid for five minutes and once; five wrong tries lock it; a new code replaces
the old one and may be asked for only after a cool-down. Every failure looks the same to
the caller, so nobody learns whether the code was wrong, expired, used or locked.

Failures also count against the customer (their phone) in `sca_failure`, whatever code or
PIN they were made with: MAX_FAILURES within FAILURE_WINDOW lock the phone for LOCK_PERIOD,
so asking for a new code does not give fresh tries (RTS Art. 4(3)(b)); nor is a locked
phone sent any new code until the lock ends (`issue` answers `Locked`).

`purpose` keeps codes for different pages apart: a code sent to manage consents can never
authorise one, and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import customers
from ledger.models import Consent, ScaChallenge, ScaFailure, table

CHALLENGES = table(ScaChallenge)
FAILURES = table(ScaFailure)
CONSENTS = table(Consent)

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
COOL_DOWN = timedelta(seconds=30)
_CODE = re.compile(r"^[0-9]{6}$")

# Per customer: 5 failures within an hour lock the phone for an hour (at most about 120
# guesses a day, each needing a code texted to the phone).
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
LOCK_PERIOD = timedelta(hours=1)
CODE_FACTOR = "code"
PIN_FACTOR = "pin"

AUTHORISE = "authorise"
MANAGE = "manage"

# A code's life: OPEN, then USED (the right code, once) or LOCKED (too many wrong tries, or
# replaced by a newer code); an open code past its expiry is EXPIRED without being stored.
# Each change stamps a NULL column (used_at, locked_at) with a conditional UPDATE, so two
# racing requests cannot both use one code, nor get more than MAX_ATTEMPTS comparisons.
OPEN = "OPEN"
USED = "USED"
LOCKED = "LOCKED"
EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class Challenge:
    id: int
    consent_id: int
    code_hash: str
    attempts: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    locked_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.used_at is not None:
            return USED
        if self.locked_at is not None:
            return LOCKED
        return EXPIRED if now >= self.expires_at else OPEN


@dataclass(frozen=True, slots=True)
class Issued:
    code: str  # to send, never to store or log


@dataclass(frozen=True, slots=True)
class CoolingDown:
    seconds: int


@dataclass(frozen=True, slots=True)
class Locked:
    until: datetime  # the customer's phone is locked: no code is sent before then


def code_hash(key: bytes, *, purpose: str, consent_id: int, code: str) -> str:
    message = f"alif-graph/sca|{purpose}|{consent_id}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _challenge(row: ScaChallenge) -> Challenge:
    return Challenge(
        id=int(row.id or 0),
        consent_id=row.consent_id,
        code_hash=row.code_hash,
        attempts=row.attempts,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        locked_at=row.locked_at,
    )


async def latest(session: AsyncSession, consent_id: int) -> Challenge | None:
    """The consent's newest code, the only one that can still be open."""
    query = (
        select(ScaChallenge)
        .where(CHALLENGES.c.consent_id == consent_id)
        .order_by(CHALLENGES.c.created_at.desc(), CHALLENGES.c.id.desc())
        .limit(1)
    )
    row = (await session.execute(query)).scalar_one_or_none()
    return _challenge(row) if row else None


async def issue(
    session: AsyncSession,
    consent_id: int,
    *,
    purpose: str,
    keys: Sequence[bytes],
    now: datetime,
) -> Issued | CoolingDown | Locked:
    """A new code for the consent, replacing any open one; the caller sends it and commits.
    `Locked` while the phone of the consent's customer is locked: a code texted then could
    not be tried, and each text would only announce the lock to whoever asked for it."""
    until = await locked_until(session, await _customer_of(session, consent_id), now=now)
    if until is not None:
        return Locked(until=until)
    newest = await latest(session, consent_id)
    if newest is not None and now - newest.created_at < COOL_DOWN:
        wait = COOL_DOWN - (now - newest.created_at)
        return CoolingDown(seconds=max(1, int(wait.total_seconds() + 0.999)))
    await session.execute(
        update(CHALLENGES)
        .where(
            CHALLENGES.c.consent_id == consent_id,
            CHALLENGES.c.used_at.is_(None),
            CHALLENGES.c.locked_at.is_(None),
        )
        .values(locked_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    await session.execute(
        CHALLENGES.insert().values(
            consent_id=consent_id,
            code_hash=code_hash(keys[0], purpose=purpose, consent_id=consent_id, code=code),
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return Issued(code=code)


async def try_code(
    session: AsyncSession,
    consent_id: int,
    code: str | None,
    *,
    purpose: str,
    keys: Sequence[bytes],
    now: datetime,
) -> int | None:
    """Count one attempt on the consent's open code: its challenge id when `code` is right
    (to `consume` once every other factor has passed too), else None. Every call counts,
    whatever it carries (None: a malformed or repeated field)."""
    newest = await latest(session, consent_id)
    if newest is None or newest.status(now) != OPEN:
        return None
    # Count the attempt before comparing, atomically: concurrent guesses cannot get more
    # than MAX_ATTEMPTS comparisons between them.
    counted = await session.execute(
        update(CHALLENGES)
        .where(
            CHALLENGES.c.id == newest.id,
            CHALLENGES.c.attempts < MAX_ATTEMPTS,
            CHALLENGES.c.used_at.is_(None),
            CHALLENGES.c.locked_at.is_(None),
        )
        .values(attempts=CHALLENGES.c.attempts + 1)
        .returning(CHALLENGES.c.attempts)
    )
    attempts = counted.scalar_one_or_none()
    if attempts is None:
        return None
    expected = newest.code_hash
    # Every key is compared (no early exit), so the time taken says nothing of which matched.
    matches = [
        hmac.compare_digest(
            code_hash(key, purpose=purpose, consent_id=consent_id, code=code or ""), expected
        )
        for key in keys
    ]
    right = code is not None and bool(_CODE.match(code)) and any(matches)
    if right:
        return newest.id
    if attempts >= MAX_ATTEMPTS:
        await session.execute(
            update(CHALLENGES).where(CHALLENGES.c.id == newest.id).values(locked_at=now)
        )
    return None


async def consume(session: AsyncSession, challenge_id: int, *, now: datetime) -> bool:
    """Use the code (once: of two racing requests only one succeeds)."""
    used = await session.execute(
        update(CHALLENGES)
        .where(
            CHALLENGES.c.id == challenge_id,
            CHALLENGES.c.used_at.is_(None),
            CHALLENGES.c.locked_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


async def locked_until(
    session: AsyncSession, customer_id: int, *, now: datetime
) -> datetime | None:
    """Until when the customer's phone is locked, or None. Call it first in an attempt's
    transaction: it holds the customer's row until commit, so one customer's attempts are
    judged (and counted) one at a time."""
    await customers.hold(session, customer_id)
    until = await session.execute(
        select(func.max(FAILURES.c.locked_until)).where(
            FAILURES.c.customer_id == customer_id, FAILURES.c.locked_until > now
        )
    )
    value: datetime | None = until.scalar_one_or_none()
    return value


async def record_failure(
    session: AsyncSession, customer_id: int, factor: str, *, now: datetime
) -> datetime | None:
    """Count a failed attempt against the customer's phone; the end of the lock when this
    failure is the one that locks it (the caller alerts the customer), else None."""
    # Rows older than any window or lock they could take part in are of no more use.
    await session.execute(
        delete(FAILURES).where(
            FAILURES.c.customer_id == customer_id,
            FAILURES.c.failed_at < now - FAILURE_WINDOW - LOCK_PERIOD,
        )
    )
    last_lock = (
        await session.execute(
            select(func.max(FAILURES.c.failed_at)).where(
                FAILURES.c.customer_id == customer_id, FAILURES.c.locked_until.is_not(None)
            )
        )
    ).scalar_one_or_none()
    inserted = await session.execute(
        FAILURES.insert()
        .values(customer_id=customer_id, factor=factor, failed_at=now)
        .returning(FAILURES.c.id)
    )
    failure_id = inserted.scalar_one()
    # A lock's failures are spent: after it ends, the count starts again.
    since = now - FAILURE_WINDOW if last_lock is None else max(now - FAILURE_WINDOW, last_lock)
    recent = (
        await session.execute(
            select(func.count()).where(
                FAILURES.c.customer_id == customer_id, FAILURES.c.failed_at > since
            )
        )
    ).scalar_one()
    if recent < MAX_FAILURES:
        return None
    until = now + LOCK_PERIOD
    await session.execute(
        update(FAILURES).where(FAILURES.c.id == failure_id).values(locked_until=until)
    )
    return until


async def _customer_of(session: AsyncSession, consent_id: int) -> int:
    found = await session.execute(select(CONSENTS.c.user_id).where(CONSENTS.c.id == consent_id))
    customer_id: int = found.scalar_one()
    return customer_id
