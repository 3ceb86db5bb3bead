"""One audit row per API request (GraphQL and REST), allowed or denied.

Written in its own short transaction once the answer is known and before it is sent: the
request's read session is rolled back, and an answer whose row could not be written is not
sent (every read is on the record). Nothing secret is in a row: the token names a consent,
and the consent's id is what is kept.
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
) -> bool:
    """Records the request; False (and the reason in the log) when the row was not written."""
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
        async with sessions.begin() as session:
            await audit.record(session, entry, at=at)
    except (SQLAlchemyError, OSError):
        log.exception("request %s: audit row not written", entry.request_id)
        return False
    return True
