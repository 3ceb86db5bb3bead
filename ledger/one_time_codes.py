"""One-time codes for strong customer authentication, bound to one consent.

Six digits from the CSPRNG, stored only as an HMAC keyed with the server secret (a stolen
database does not let anyone try the million codes offline). A code is valid for five
minutes and once; five wrong tries lock it; a new code replaces the old one and may be
asked for only after a cool-down. Every failure looks the same to the caller, so nobody
learns whether the code was wrong, expired, used or locked.

`purpose` keeps codes for different pages apart: a code sent to manage consents can never
authorise one, and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import ScaChallenge, table

CHALLENGES = table(ScaChallenge)

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
COOL_DOWN = timedelta(seconds=30)
_CODE = re.compile(r"^[0-9]{6}$")

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


def code_hash(secret: str, *, purpose: str, consent_id: int, code: str) -> str:
    message = f"alif-graph/sca|{purpose}|{consent_id}|{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


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
    session: AsyncSession, consent_id: int, *, purpose: str, secret: str, now: datetime
) -> Issued | CoolingDown:
    """A new code for the consent, replacing any open one; the caller sends it and commits."""
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
            code_hash=code_hash(secret, purpose=purpose, consent_id=consent_id, code=code),
            attempts=0,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    return Issued(code=code)


async def verify(
    session: AsyncSession,
    consent_id: int,
    code: str | None,
    *,
    purpose: str,
    secret: str,
    now: datetime,
) -> bool:
    """True once for the right code of the consent's open challenge; every call counts as
    an attempt, whatever it carries (None: a malformed or repeated field)."""
    newest = await latest(session, consent_id)
    if newest is None or newest.status(now) != OPEN:
        return False
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
        return False
    expected = newest.code_hash
    given = code_hash(secret, purpose=purpose, consent_id=consent_id, code=code or "")
    right = code is not None and bool(_CODE.match(code)) and hmac.compare_digest(given, expected)
    if right:
        used = await session.execute(
            update(CHALLENGES)
            .where(CHALLENGES.c.id == newest.id, CHALLENGES.c.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(used.rowcount == 1)  # type: ignore[attr-defined]
    if attempts >= MAX_ATTEMPTS:
        await session.execute(
            update(CHALLENGES).where(CHALLENGES.c.id == newest.id).values(locked_at=now)
        )
    return False
