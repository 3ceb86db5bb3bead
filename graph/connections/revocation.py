"""The bank side of the customer's revocation, attempted at once (docs/consent.md).

The revocation itself is already committed (`ledger.consents.transition` marked the
connections it leaves uncovered REVOKING); this only asks the bank right away, so the
customer's bank consent ends with ours. A bank that is down changes nothing for the
customer: the connection stays REVOKING and every `alif-graph sync` pass (or
`alif-graph revoke-pending`) asks again.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.bank_access import BankAccess
from connectors.bank_revocation import Outcome, revoke_pending
from ledger.db import session_factory

log = logging.getLogger(__name__)


async def revoke_at_bank_now(
    bind: AsyncEngine | async_sessionmaker[AsyncSession], bank: BankAccess, user_id: int
) -> list[Outcome]:
    """Revoke at the bank what the customer's revocation left pending; never raises."""
    sessions = session_factory(bind) if isinstance(bind, AsyncEngine) else bind
    try:
        return await revoke_pending(
            sessions, keys=bank.keys, transport=bank.transport, tls=bank.tls, customer=user_id
        )
    except Exception as exc:  # the customer's revocation stands; the next sync pass retries
        # Only the kind: a database error's text may quote row values.
        log.warning("bank revocation left pending for a later pass: %s", type(exc).__name__)
        return []
