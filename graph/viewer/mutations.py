"""The root `consentRevoke` mutation: the customer ends a consent through a token.

Expected failures are data (a `ConsentRevokeError`), not GraphQL errors. An app may end
only the consents it holds itself: a consent of another customer, or the same customer's
consent to another app, answers exactly like one that does not exist, whatever its status
(the customer ends any of theirs on the consents page, graph/auth/consent/manage.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from graph.auth.principal import DEVELOPMENT_CLIENT, Principal
from graph.connections.revocation import revoke_at_bank_now
from graph.context import Info
from graph.relay.ids import pk_of, to_global_id
from graph.viewer.types import Consent
from ledger import audit, consents
from ledger.models import Client, table
from ledger.types import utcnow

CLIENTS = table(Client)


@strawberry.enum
class ConsentRevokeErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_ENDED = "ALREADY_ENDED"


@strawberry.type(description="The consent is revoked: its tokens stop working at once.")
class ConsentRevokeSuccess:
    consent: Consent


@strawberry.type(description="Nothing was revoked.")
class ConsentRevokeError:
    code: ConsentRevokeErrorCode
    message: str


ConsentRevokeResult = Annotated[
    ConsentRevokeSuccess | ConsentRevokeError, strawberry.union("ConsentRevokeResult")
]


def _not_found() -> ConsentRevokeError:
    return ConsentRevokeError(code=ConsentRevokeErrorCode.NOT_FOUND, message="No such consent.")


def _ended(status: str) -> ConsentRevokeError:
    return ConsentRevokeError(
        code=ConsentRevokeErrorCode.ALREADY_ENDED,
        message=f"The consent is not in force: it is {status}.",
    )


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(
        description="Revokes one of the consents this app holds from the customer: the "
        "token's own unless `id` names another. Every access and refresh token of it stops "
        "working on its next use."
    )
    async def consent_revoke(
        self, info: Info, id: strawberry.ID | None = None
    ) -> ConsentRevokeResult:
        context = info.context
        principal = context.principal
        pk = principal.consent.id if id is None else pk_of(id, "Consent")
        now = utcnow()
        async with context.db.session() as session:
            state = await consents.load(session, pk)
            if state is None or not _held_by(state, principal):
                context.trail.refuse(to_global_id("Consent", pk))
                return _not_found()
            if not state.usable(now):
                return _ended(state.effective_status(now))
            try:
                revoked = await consents.transition(session, pk, consents.REVOKED, now=now)
            except consents.IllegalTransition as lost:  # a concurrent revocation or expiry
                await session.rollback()
                return _ended(lost.current)
            name = await _record_revocation(session, revoked, context.request_id, now)
            await session.commit()
            bind = session.bind
        assert isinstance(bind, AsyncEngine)
        await revoke_at_bank_now(bind, context.bank, revoked.user_id)
        return ConsentRevokeSuccess(consent=Consent.of_record(revoked, name, now))


def _held_by(state: consents.ConsentState, principal: Principal) -> bool:
    """Whether the consent is the token's customer's, given to the token's app (a
    development token holds the customer's development consents)."""
    return state.user_id == principal.user_id and state.client_id == principal.consent.client_pk


async def _record_revocation(
    session: AsyncSession, revoked: consents.ConsentState, request_id: str, now: datetime
) -> str:
    """The consent's own audit row, committed with the revocation (the request's row,
    written later under the same request id, has the rest); returns the app's name."""
    client = (
        await session.execute(
            select(CLIENTS.c.client_id, CLIENTS.c.name).where(CLIENTS.c.id == revoked.client_id)
        )
    ).first()
    await audit.record(
        session,
        audit.AuditRecord(
            operation="auth.consent.revoke",
            outcome="ok",
            request_id=request_id,
            client_id=client.client_id if client else None,
            user_id=revoked.user_id,
            consent_id=revoked.id,
            scopes=sorted(revoked.scopes),
        ),
        at=now,
    )
    return client.name if client else DEVELOPMENT_CLIENT
