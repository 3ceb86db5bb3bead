"""A customer's bank connection as the API shows it: its state, and when the service may
next sync it by itself (the consent limits of ledger/consents.py decide)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.principal import Principal
from graph.auth.scopes import ACCOUNTS_READ
from graph.context import Info
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from ledger import connections, consents
from ledger.sync_store import Trigger
from ledger.types import utcnow


@strawberry.enum(description="Why a connection may not be synced now.")
class SyncRefusal(Enum):
    # The values are the ledger's: its consent module alone decides.
    CONNECTION_REVOKED = consents.SyncRefusal.CONNECTION_REVOKED.value
    BANK_CONSENT_REVOKED = consents.SyncRefusal.BANK_CONSENT_REVOKED.value
    BANK_CONSENT_EXPIRED = consents.SyncRefusal.BANK_CONSENT_EXPIRED.value
    NO_USABLE_CONSENT = consents.SyncRefusal.NO_USABLE_CONSENT.value
    SCA_EXPIRED = consents.SyncRefusal.SCA_EXPIRED.value
    DAILY_LIMIT = consents.SyncRefusal.DAILY_LIMIT.value
    REFRESHED_RECENTLY = consents.SyncRefusal.REFRESHED_RECENTLY.value


@node(scope=ACCOUNTS_READ)
@strawberry.type(description="The customer's link to one bank, which the service syncs.")
class BankConnection(Node):
    bank: str = strawberry.field(description="The bank's name.")
    status: str = strawberry.field(
        description="ACTIVE; SYNCING; BANK_CONSENT_REVOKED or BANK_CONSENT_EXPIRED (the bank "
        "says its consent was revoked there, or has expired: link the bank again); "
        "REAUTH_REQUIRED (the bank refused its login for another reason: link it again); "
        "SCA_REQUIRED (the customer must authenticate again); REVOKING or REVOKED (the "
        "customer revoked the consent that covered it: its bank consent is being, or has "
        "been, revoked at the bank; never synced again unless linked again); or ERROR."
    )
    last_synced_at: datetime | None
    bank_consent_expires_at: datetime | None = strawberry.field(
        description="When the bank consent it syncs with ends (at most 180 days after it was "
        "given); null when the bank gave none (a development login)."
    )
    renewal_due_at: datetime | None = strawberry.field(
        description="When the customer should link the bank again (14 days before the bank "
        "consent ends): the bank cannot extend a consent, so a new one replaces it."
    )
    next_unattended_sync_at: datetime | None = strawberry.field(
        description="When the service may next sync it by itself (at most four times in 24 "
        "hours per consent): the present moment when it may now; null while the customer "
        "must consent or authenticate again first. `connectionRefresh` is not limited by it."
    )
    unattended_sync_refusal: SyncRefusal | None = strawberry.field(
        description="Why the service may not sync it by itself now; null when it may."
    )

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> BankConnection | None:
        async with info.context.db.session() as session:
            found = await covered(session, info.context.principal, utcnow(), only=pk)
        return found[0] if found else None


async def covered(
    session: AsyncSession, principal: Principal, now: datetime, *, only: int | None = None
) -> list[BankConnection]:
    """The customer's connections the token's consent covers (`only`: that one), oldest
    first. Another customer's connection, or one the consent does not reach, is absent."""
    consent = await consents.load(session, principal.consent.id)
    if consent is None:
        return []
    shown = []
    for row in await connections.of_customer(session, principal.user_id):
        if only not in (None, row.id):
            continue
        user_id, account_ids = await connections.coverage(session, row.id)
        if not consent.covers(user_id, account_ids):
            continue
        decision = await consents.sync_decision(
            session, row.id, trigger=Trigger.UNATTENDED, now=now
        )
        shown.append(
            BankConnection(
                id=strawberry.ID(to_global_id("BankConnection", row.id)),
                bank=row.institution,
                status=row.status,
                last_synced_at=row.last_synced_at,
                bank_consent_expires_at=row.bank_consent_expires_at,
                renewal_due_at=row.renewal_due_at,
                next_unattended_sync_at=decision.next_at,
                unattended_sync_refusal=(
                    None if decision.refusal is None else SyncRefusal(decision.refusal.value)
                ),
            )
        )
    return shown
