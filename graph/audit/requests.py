"""One audit row per API request (GraphQL and REST), allowed or denied.

Written once the answer is known and before it is sent; an answer whose row could not be
written is not sent (every read is on the record). Nothing secret is in a row: the token
names a consent, and the consent's id is what is kept.

The row goes through the request's own session when there is one: its transaction is
rolled back first (the row must not share the fate of the request's transaction, and
whatever a request left uncommitted is discarded, as closing the session would), then the
row is inserted and committed on the same connection. That costs no second session, pool
checkout or pre-ping. On SQLite the rollback also means the INSERT starts a fresh write
transaction rather than upgrading a read one (an upgrade from a stale snapshot fails at
once with SQLITE_BUSY instead of waiting out `busy_timeout`). When the request's connection
cannot take the row (the request may have failed because of it), a fresh session writes it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from graph.audit.trail import Trail
from graph.auth.principal import Party
from graph.server.services import client_ip, request_id
from ledger import audit

log = logging.getLogger("graph.audit")


async def write_audit(
    sessions: async_sessionmaker[AsyncSession],
    request: Request,
    party: Party,
    trail: Trail,
    *,
    at: datetime,
    session: AsyncSession | None = None,
) -> bool:
    """Records the request, on its `session` if given; False (and the reason in the log)
    when the row was not written."""
    if getattr(request.state, "skip_audit", False):
        return True  # a flood of failed authentications from one address (Services)
    entry = audit.AuditRecord(
        operation=trail.operation,
        outcome=trail.outcome,
        request_id=request_id(request),
        client_id=party.client_id,
        user_id=party.user_id,
        consent_id=party.consent_id,
        scopes=sorted(trail.scopes),
        object_ids=trail.object_ids,
        ip=client_ip(request),
        detail=trail.detail,
    )
    try:
        if session is None or not await _inserted(session, entry, at):
            async with sessions.begin() as fresh:
                await audit.record(fresh, entry, at=at)
        else:
            await session.commit()
    except (SQLAlchemyError, OSError):
        log.exception("request %s: audit row not written", entry.request_id)
        return False
    return True


async def _inserted(session: AsyncSession, entry: audit.AuditRecord, at: datetime) -> bool:
    """Ends the request's transaction and inserts the row in a new one (not committed yet);
    False when the request's connection could not (nothing is sent before the commit, so
    writing the row elsewhere cannot record it twice)."""
    try:
        await session.rollback()
        await audit.record(session, entry, at=at)
    except (SQLAlchemyError, OSError):
        # The session's close rolls the failed attempt back.
        log.warning("request %s: audit row written on a new connection", entry.request_id)
        return False
    return True
