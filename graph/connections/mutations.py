"""The root `connectionRefresh` mutation: the customer, present, has a connection synced now.

The run is recorded as the customer's (not counted towards the four unattended syncs a
day) and asked of the one consent rule through the token's own consent, which paces such
refreshes at one per connection per minute. Expected failures are data (a
`ConnectionRefreshError`); a connection the consent does not cover, or another customer's,
answers exactly like one that does not exist.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.credentials import CredentialsError, decrypt
from connectors.factory import open_connector
from connectors.sync import SyncAlreadyRunning, SyncEngine
from graph.accounts.types import SyncRunStatus
from graph.auth.scopes import ACCOUNTS_READ
from graph.connections.types import BankConnection, SyncRefusal, covered
from graph.context import Context, Info
from graph.core.permissions import scope_gate
from graph.relay.ids import pk_of, to_global_id
from graph.settings import DirectLoginRefused, refuse_direct_login
from ledger import connections, consents
from ledger.db import session_factory
from ledger.sync_store import Trigger
from ledger.types import utcnow


@strawberry.enum
class ConnectionRefreshErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    REFUSED = "REFUSED"  # the consent rule said no: see `refusal`
    ALREADY_SYNCING = "ALREADY_SYNCING"
    DIRECT_LOGIN_REFUSED = "DIRECT_LOGIN_REFUSED"  # production links banks by consent only


@strawberry.type(description="The connection was synced now.")
class ConnectionRefreshSuccess:
    connection: BankConnection
    run_status: SyncRunStatus = strawberry.field(
        description="How the run ended: FAILED when the bank refused or did not answer "
        "(the connection's status says which)."
    )


@strawberry.type(description="Nothing was synced.")
class ConnectionRefreshError:
    code: ConnectionRefreshErrorCode
    message: str
    refusal: SyncRefusal | None = strawberry.field(
        description="The consent rule's reason, for REFUSED."
    )
    retry_after: int | None = strawberry.field(
        description="Whole seconds after which the same refresh may pass; null when waiting "
        "cannot help."
    )


ConnectionRefreshResult = Annotated[
    ConnectionRefreshSuccess | ConnectionRefreshError, strawberry.union("ConnectionRefreshResult")
]


def _error(
    code: ConnectionRefreshErrorCode,
    message: str,
    refusal: SyncRefusal | None = None,
    retry_at: datetime | None = None,
    now: datetime | None = None,
) -> ConnectionRefreshError:
    retry_after = None
    if retry_at is not None and now is not None:
        retry_after = max(1, math.ceil((retry_at - now).total_seconds()))
    return ConnectionRefreshError(
        code=code, message=message, refusal=refusal, retry_after=retry_after
    )


def _not_found() -> ConnectionRefreshError:
    return _error(ConnectionRefreshErrorCode.NOT_FOUND, "No such connection.")


@strawberry.type
class ConnectionMutations:
    @strawberry.mutation(
        description="Syncs one of the customer's connections now, for the customer present "
        "with their token: not counted towards the service's four unattended syncs a day, "
        "at most once per connection per minute. Requires scope accounts:read.",
        extensions=[scope_gate(ACCOUNTS_READ)],
    )
    async def connection_refresh(
        self, info: Info, id: strawberry.ID
    ) -> ConnectionRefreshResult | None:
        context = info.context
        pk = pk_of(id, "BankConnection")
        now = utcnow()
        async with context.db.session() as session:
            if not await covered(session, context.principal, now, only=pk):
                context.trail.refuse(to_global_id("BankConnection", pk))  # audited: denied
                return _not_found()
            decision = await consents.admit_sync(
                session, pk, trigger=Trigger.CUSTOMER, now=now, through=context.principal.consent.id
            )
            await session.commit()  # ends the request's transaction before the sync's own
        if not decision.allowed:
            assert decision.refusal is not None
            return _error(
                ConnectionRefreshErrorCode.REFUSED,
                f"Not synced: {decision.reason}.",
                SyncRefusal(decision.refusal.value),
                decision.next_at,
                now,
            )
        try:
            status = await _sync(context, pk)
        except DirectLoginRefused as exc:
            return _error(
                ConnectionRefreshErrorCode.DIRECT_LOGIN_REFUSED, f"Not synced: {exc.reason}."
            )
        if status is None:
            return _error(
                ConnectionRefreshErrorCode.ALREADY_SYNCING,
                "The connection is being synced right now.",
            )
        async with context.db.session() as session:
            (shown,) = await covered(session, context.principal, utcnow(), only=pk)
        return ConnectionRefreshSuccess(connection=shown, run_status=status)


async def _sync(context: Context, connection_id: int) -> SyncRunStatus | None:
    """Run the sync as the customer's; None when another run holds the connection.
    Raises DirectLoginRefused for a DirectLogin connection in production."""
    async with context.db.session() as session:
        provider, base_url, bank_id, blob = await connections.connection_target(
            session, connection_id
        )
        engine = session.bind
    assert isinstance(engine, AsyncEngine)
    try:
        creds = decrypt(blob, context.bank.keys)
    except CredentialsError:
        return SyncRunStatus.FAILED
    if not (creds.consent_id or creds.consent_jwt):
        refuse_direct_login(context.settings, "this connection")
    connector = open_connector(provider, base_url, bank_id, creds, transport=context.bank.transport)
    try:
        report = await SyncEngine(session_factory(engine)).sync(
            connection_id, connector, trigger=Trigger.CUSTOMER
        )
    except SyncAlreadyRunning:
        return None
    finally:
        await connector.aclose()
    return SyncRunStatus(report.status)
