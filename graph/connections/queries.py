"""The root `bankConnections` field."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import ACCOUNTS_READ
from graph.connections.types import BankConnection, covered
from graph.context import Info
from graph.core.permissions import scoped
from ledger.types import utcnow


@strawberry.type
class ConnectionQueries:
    @scoped(
        "The customer's bank connections the consent covers, oldest first, with when the "
        "service may next sync each by itself.",
        ACCOUNTS_READ,
    )
    async def bank_connections(self, info: Info) -> list[BankConnection] | None:
        async with info.context.db.session() as session:
            return await covered(session, info.context.principal, utcnow())
