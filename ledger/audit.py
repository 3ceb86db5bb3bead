"""The audit trail: one append-only row per data access.

Append-only is enforced by the database (triggers refuse UPDATE and DELETE on both
dialects), not only by this module having no update function.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.append_only import make_append_only
from ledger.models import AuditEvent, table

AUDIT = table(AuditEvent)
# Beyond this many ids a row keeps their count and digest only.
MAX_LISTED_IDS = 100

make_append_only(AUDIT)
_INSERT = AUDIT.insert()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    operation: str
    outcome: str  # ok denied error
    request_id: str
    client_id: str | None = None
    user_id: int | None = None
    consent_id: int | None = None
    scopes: Sequence[str] = ()
    object_ids: Sequence[str] = ()
    ip: str | None = None
    detail: str | None = None  # an export's format, period and SHA-256 (ledger.exports)


def digest(object_ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(object_ids)).encode()).hexdigest()


async def record(session: AsyncSession, entry: AuditRecord, *, at: datetime) -> None:
    # One constant statement with parameters: building `insert().values(...)` anew cost
    # more than the insert itself (one row per API request).
    await session.execute(_INSERT, _values(entry, at))


async def record_many(
    session: AsyncSession, entries: Sequence[tuple[AuditRecord, datetime]]
) -> None:
    """Several rows in one statement (graph/audit/requests.py writes the rows of concurrent
    requests together)."""
    await session.execute(_INSERT, [_values(entry, at) for entry, at in entries])


def _values(entry: AuditRecord, at: datetime) -> dict[str, Any]:
    ids = list(object_ids) if len(object_ids := entry.object_ids) <= MAX_LISTED_IDS else []
    return {
        "at": at,
        "client_id": entry.client_id,
        "user_id": entry.user_id,
        "consent_id": entry.consent_id,
        "operation": entry.operation[:200],
        "scopes": " ".join(sorted(entry.scopes)),
        "object_count": len(entry.object_ids),
        "object_digest": digest(entry.object_ids) if entry.object_ids else None,
        "object_ids": " ".join(ids),
        "outcome": entry.outcome,
        "request_id": entry.request_id[:64],
        "ip": entry.ip,
        "detail": None if entry.detail is None else entry.detail[:300],
    }


async def events(
    session: AsyncSession,
    *,
    consent_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AUDIT.c.at, AUDIT.c.id).limit(limit)
    if consent_id is not None:
        query = query.where(AUDIT.c.consent_id == consent_id)
    if since is not None:
        query = query.where(AUDIT.c.at >= since)
    if until is not None:
        query = query.where(AUDIT.c.at < until)
    return list((await session.execute(query)).scalars())
