"""Development access tokens, for scripts, tests and the demo (never in production).

Each token is backed by a real consent row (no client: a development consent), so the API
checks it exactly like a token an app obtained through the consent flow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.oauth.tokens import issue_access_token
from ledger.models import Account, Consent, User, table

ACCOUNTS = table(Account)
CONSENTS = table(Consent)
CUSTOMERS = table(User)

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
    secret: str,
    now: datetime,
    ttl: timedelta,
) -> DevelopmentToken:
    """Find or create the customer, record an AUTHORISED consent, sign a token for it.
    The caller commits. `account_ids` empty: all of the customer's accounts."""
    if not PHONE.match(phone):
        raise ValueError("the phone number must look like +992XXXXXXXXX")
    user_id = (
        await session.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.phone == phone))
    ).scalar_one_or_none()
    created = user_id is None
    if user_id is None:
        user_id = (
            await session.execute(
                insert(CUSTOMERS).values(phone=phone, created_at=now).returning(CUSTOMERS.c.id)
            )
        ).scalar_one()
    owned = set(
        (
            await session.execute(
                select(ACCOUNTS.c.id).where(
                    ACCOUNTS.c.user_id == user_id, ACCOUNTS.c.id.in_(account_ids)
                )
            )
        ).scalars()
    )
    foreign = sorted(set(account_ids) - owned)
    if foreign:
        raise ValueError(f"not accounts of {phone}: {', '.join(map(str, foreign))}")
    consent_id = (
        await session.execute(
            insert(CONSENTS)
            .values(
                user_id=user_id,
                client_id=None,
                scopes=" ".join(sorted(scopes)),
                account_ids=" ".join(str(a) for a in sorted(owned)),
                status="AUTHORISED",
                created_at=now,
                updated_at=now,
                expires_at=now + CONSENT_LIFETIME,
            )
            .returning(CONSENTS.c.id)
        )
    ).scalar_one()
    token = issue_access_token(
        secret, user_id=user_id, consent_id=consent_id, scopes=scopes, now=now, ttl=ttl
    )
    return DevelopmentToken(
        token=token, user_id=user_id, consent_id=consent_id, created_user=created
    )
