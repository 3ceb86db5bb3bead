"""Strong customer authentication for approving a consent (RTS Art. 4): the code texted to
the phone (possession) and the customer's PIN (knowledge), judged together in one attempt.

A failed attempt never says which of the two was wrong (Art. 4(3)(a)) and counts against
the phone whatever code it was made with (`ledger.one_time_codes`): five within an hour
lock the phone for an hour, and the customer is texted (Art. 4(3)(b)). The PIN is kept only
as an argon2id hash; a customer without one chooses it at their first approval, after the
code has proved the phone, so the pages never tell a stranger whether a number has a PIN.

The consents page signs in with the code alone (`judge_code`): its failures count against
the same phone, lock it and alert the customer exactly as the approval's do.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.keys import Keyring
from ledger import customers, one_time_codes

_PIN = re.compile(r"^[0-9]{6}$")
_DIGITS = "0123456789"
_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106) parameters


def acceptable_pin(pin: str | None) -> TypeGuard[str]:
    """Whether `pin` can be a PIN: 6 digits, not one digit repeated, not a run up or down.
    Every stored PIN is acceptable, so refusing the others reveals nothing."""
    if pin is None or not _PIN.match(pin):
        return False
    return len(set(pin)) > 1 and pin not in _DIGITS and pin not in _DIGITS[::-1]


async def hash_pin(pin: str) -> str:
    # argon2 takes tens of milliseconds on purpose: off the event loop.
    return await asyncio.to_thread(_HASHER.hash, pin)


async def pin_matches(hashed: str, pin: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(hashed, pin)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


@cache
def _stand_in() -> str:
    """A hash to check against when the customer has no PIN, so an attempt takes as long
    either way."""
    return _HASHER.hash("no PIN")


@dataclass(frozen=True, slots=True)
class Passed:
    has_pin: bool  # False: the code was right and the customer must now choose a PIN


@dataclass(frozen=True, slots=True)
class Refused:
    locked_until: datetime | None  # the phone is locked (by this attempt or before)
    alert: bool  # this attempt locked it: text the customer


async def judge(
    session: AsyncSession,
    *,
    user_id: int,
    consent_id: int,
    code: str | None,
    pin: str,
    keys: Keyring,
    now: datetime,
) -> Passed | Refused:
    """One attempt at both factors for the consent; the caller commits, then alerts."""
    until = await one_time_codes.locked_until(session, user_id, now=now)
    if until is not None:
        return Refused(locked_until=until, alert=False)
    challenge = await one_time_codes.try_code(
        session, consent_id, code, purpose=one_time_codes.AUTHORISE, keys=keys.code_keys, now=now
    )
    stored = await customers.pin_hash(session, user_id)
    # The PIN is checked even when the code is wrong: the time taken tells nothing either.
    pin_right = await pin_matches(stored or _stand_in(), pin) or stored is None
    if (
        challenge is not None
        and pin_right
        and await one_time_codes.consume(session, challenge, now=now)
    ):
        return Passed(has_pin=stored is not None)
    factor = one_time_codes.CODE_FACTOR if challenge is None else one_time_codes.PIN_FACTOR
    return await _failed(session, user_id, factor, now=now)


async def judge_code(
    session: AsyncSession,
    *,
    user_id: int,
    consent_id: int,
    code: str | None,
    purpose: str,
    keys: Keyring,
    now: datetime,
) -> Refused | None:
    """One attempt at the code alone (the consents page: it shows and revokes consents,
    it approves none); None when it passed. The caller commits, then alerts."""
    until = await one_time_codes.locked_until(session, user_id, now=now)
    if until is not None:
        return Refused(locked_until=until, alert=False)
    challenge = await one_time_codes.try_code(
        session, consent_id, code, purpose=purpose, keys=keys.code_keys, now=now
    )
    if challenge is not None and await one_time_codes.consume(session, challenge, now=now):
        return None
    return await _failed(session, user_id, one_time_codes.CODE_FACTOR, now=now)


async def _failed(session: AsyncSession, user_id: int, factor: str, *, now: datetime) -> Refused:
    until = await one_time_codes.record_failure(session, user_id, factor, now=now)
    return Refused(locked_until=until, alert=until is not None)
