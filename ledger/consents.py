"""Consent lifecycle: statuses, legal transitions, and what a consent allows right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import AuthorizationGrant, Client, Consent, User, table

CONSENTS = table(Consent)
CUSTOMERS = table(User)
CLIENTS = table(Client)
GRANTS = table(AuthorizationGrant)

AWAITING = "AWAITING_AUTHORISATION"
AUTHORISED = "AUTHORISED"
REJECTED = "REJECTED"
REVOKED = "REVOKED"
EXPIRED = "EXPIRED"

# Everything else is illegal: a rejected, revoked or expired consent never comes back.
TRANSITIONS: dict[str, frozenset[str]] = {
    AWAITING: frozenset({AUTHORISED, REJECTED, EXPIRED}),
    AUTHORISED: frozenset({REVOKED, EXPIRED}),
    REJECTED: frozenset(),
    REVOKED: frozenset(),
    EXPIRED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a consent in status {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class ConsentState:
    id: int
    user_id: int
    client_id: int | None
    scopes: frozenset[str]
    account_ids: frozenset[int]
    status: str
    created_at: datetime
    expires_at: datetime

    def effective_status(self, now: datetime) -> str:
        """An authorised or pending consent past its expiry is EXPIRED, stored or not."""
        if self.status in (AUTHORISED, AWAITING) and now >= self.expires_at:
            return EXPIRED
        return self.status

    def usable(self, now: datetime) -> bool:
        return self.effective_status(now) == AUTHORISED


@dataclass(frozen=True, slots=True)
class PresentedConsent:
    """A consent as an access token presents it, with what the token check needs besides:
    the customer, the app (None for a development consent) and the token's grant."""

    consent: ConsentState
    phone: str
    locale: str
    client_name: str | None
    public_client_id: str | None
    grant_found: bool  # the token's grant exists and was issued for this consent
    grant_revoked: bool


def _state(row: Consent | Row[Any]) -> ConsentState:
    return ConsentState(
        id=int(row.id or 0),
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        account_ids=frozenset(int(a) for a in row.account_ids.split()),
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


async def load(session: AsyncSession, consent_id: int) -> ConsentState | None:
    row = (
        await session.execute(select(Consent).where(CONSENTS.c.id == consent_id))
    ).scalar_one_or_none()
    return _state(row) if row else None


async def create(
    session: AsyncSession,
    *,
    user_id: int,
    client_id: int | None,
    scopes: frozenset[str],
    expires_at: datetime,
    now: datetime,
) -> int:
    result = await session.execute(
        CONSENTS.insert()
        .values(
            user_id=user_id,
            client_id=client_id,
            scopes=" ".join(sorted(scopes)),
            account_ids="",
            status=AWAITING,
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
        )
        .returning(CONSENTS.c.id)
    )
    return int(result.scalar_one())


async def transition(
    session: AsyncSession, consent_id: int, wanted: str, *, now: datetime, **values: object
) -> ConsentState:
    """Move a consent to `wanted` if that is legal from its current (effective) status.

    The UPDATE is conditional on the status read, so two racing transitions cannot both
    succeed.
    """
    state = await load(session, consent_id)
    if state is None:
        raise LookupError(consent_id)
    current = state.effective_status(now)
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(current, wanted)
    extra: dict[str, object] = dict(values)
    if wanted == REVOKED:
        extra["revoked_at"] = now
    result = await session.execute(
        update(CONSENTS)
        .where(CONSENTS.c.id == consent_id, CONSENTS.c.status == state.status)
        .values(status=wanted, updated_at=now, **extra)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise IllegalTransition(current, wanted)
    updated = await load(session, consent_id)
    assert updated is not None
    return updated


async def authorise(
    session: AsyncSession,
    consent_id: int,
    *,
    account_ids: frozenset[int],
    expires_at: datetime,
    now: datetime,
) -> ConsentState:
    return await transition(
        session,
        consent_id,
        AUTHORISED,
        now=now,
        account_ids=" ".join(str(a) for a in sorted(account_ids)),
        expires_at=expires_at,
        sca_at=now,
    )


async def of_user(session: AsyncSession, user_id: int) -> list[ConsentState]:
    rows = await session.execute(
        select(Consent).where(CONSENTS.c.user_id == user_id).order_by(CONSENTS.c.id.desc())
    )
    return [_state(r) for r in rows.scalars()]


async def usable_of_user(
    session: AsyncSession, user_id: int, *, now: datetime
) -> list[ConsentState]:
    """The customer's consents usable now, newest first (what a sync may act on)."""
    return [c for c in await of_user(session, user_id) if c.usable(now)]


async def presented(
    session: AsyncSession, consent_id: int, *, grant_id: int | None
) -> PresentedConsent | None:
    """The consent an access token names, in one query (it runs on every request)."""
    stmt = (
        select(
            CONSENTS,
            CUSTOMERS.c.phone,
            CUSTOMERS.c.locale,
            CLIENTS.c.name.label("client_name"),
            CLIENTS.c.client_id.label("public_client_id"),
            GRANTS.c.id.label("grant_id"),
            GRANTS.c.revoked_at.label("grant_revoked_at"),
        )
        .join(CUSTOMERS, CUSTOMERS.c.id == CONSENTS.c.user_id)
        .outerjoin(CLIENTS, CLIENTS.c.id == CONSENTS.c.client_id)
        # An OAuth token's grant: revoking it (code replay, refresh reuse, /auth/revoke)
        # revokes every access token it issued.
        .outerjoin(GRANTS, (GRANTS.c.id == grant_id) & (GRANTS.c.consent_id == CONSENTS.c.id))
        .where(CONSENTS.c.id == consent_id)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return PresentedConsent(
        consent=_state(row),
        phone=row.phone,
        locale=row.locale,
        client_name=row.client_name,
        public_client_id=row.public_client_id,
        grant_found=row.grant_id is not None,
        grant_revoked=row.grant_revoked_at is not None,
    )


async def expire_due(session: AsyncSession, *, now: datetime) -> int:
    """Store EXPIRED on consents past their expiry (reads already treat them so)."""
    result = await session.execute(
        update(CONSENTS)
        .where(CONSENTS.c.status.in_([AUTHORISED, AWAITING]), CONSENTS.c.expires_at <= now)
        .values(status=EXPIRED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
