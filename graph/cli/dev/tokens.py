"""Development access tokens, for scripts, tests and the demo (never in production).

Each token is backed by a real consent (no client: a development consent), made through the
same lifecycle as the consent pages' (created, then authorised with SCA recorded), so the
API checks it exactly like a token an app obtained through the consent flow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.keys import Keyring
from graph.auth.oauth.tokens import issue_access_token
from ledger import consents, customers

PHONE = re.compile(r"^\+992\d{9}$")
CONSENT_LIFETIME = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class DevelopmentToken:
    token: str
    user_id: int
    consent_id: int
    created_user: bool


async def issue_development_token(
    session: AsyncSession,
    *,
    phone: str,
    scopes: frozenset[str],
    account_ids: Sequence[int],
    keys: Keyring,
    now: datetime,
    ttl: timedelta,
) -> DevelopmentToken:
    """Find or create the customer, authorise a consent for them, sign a token for it.
    The caller commits. `account_ids` empty: all of the customer's accounts."""
    if not PHONE.match(phone):
        raise ValueError("the phone number must look like +992XXXXXXXXX")
    user_id = await customers.id_by_phone(session, phone)
    created = user_id is None
    if user_id is None:
        user_id = await customers.ensure(session, phone)
    owned = {a.id for a in await customers.accounts_of(session, user_id)}
    foreign = sorted(set(account_ids) - owned)
    if foreign:
        raise ValueError(f"not accounts of {phone}: {', '.join(map(str, foreign))}")
    expires_at = now + CONSENT_LIFETIME
    consent_id = await consents.create(
        session, user_id=user_id, client_id=None, scopes=scopes, expires_at=expires_at, now=now
    )
    # Whoever runs the command vouches for the customer: that is the development SCA.
    await consents.authorise(
        session, consent_id, account_ids=frozenset(account_ids), expires_at=expires_at, now=now
    )
    token = issue_access_token(
        keys, user_id=user_id, consent_id=consent_id, scopes=scopes, now=now, ttl=ttl
    )
    return DevelopmentToken(
        token=token, user_id=user_id, consent_id=consent_id, created_user=created
    )
