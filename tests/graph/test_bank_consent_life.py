"""The bank consent's life, end to end against the sandbox bank over HTTP, on both
databases: a consent revoked or expired at the bank is detected on the next sync and shown
on the connection (`bankConnections`), a stored expiry that passed costs no call, linking
again makes the connection ACTIVE, the customer's revocation revokes the bank consent
(pending while the bank is down, retried by the next sync pass), and DirectLogin is
refused in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.alif.constants import ALIF_INSTITUTION
from connectors.bank_access import BankAccess
from connectors.bank_revocation import revoke_pending
from connectors.credentials import Credentials, encrypt
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.config import SandboxConfig
from graph.auth.runtime import AuthConfig
from graph.cli.sync import Skipped, sync_connections
from graph.connections.revocation import revoke_at_bank_now
from graph.relay.ids import to_global_id
from graph.server.app import create_app
from graph.settings import Settings
from ledger import connections, consents, customers
from ledger.types import utcnow

from .helpers import KEYS, SECRET, Api, consent_of

CONNECTIONS = """
{ bankConnections { id status bankConsentExpiresAt renewalDueAt unattendedSyncRefusal } }
"""
REVOKE = "mutation { consentRevoke { __typename } }"
REFRESH = """
mutation Refresh($id: ID!) {
  connectionRefresh(id: $id) {
    __typename
    ... on ConnectionRefreshError { code message }
  }
}
"""


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


class Counting(httpx.AsyncBaseTransport):
    """The sandbox over ASGI, counting requests; `down` answers none (a bank that is down)."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.requests: list[str] = []
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("the bank is down", request=request)
        self.requests.append(f"{request.method} {request.url.path}")
        return await self.inner.handle_async_request(request)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> Any:
    config = SandboxConfig(seed=5, months=1, as_of=datetime(2026, 11, 1, tzinfo=UTC), clock=clock)
    return create_sandbox(config)


@pytest.fixture
def transport(sandbox: Any) -> Counting:
    return Counting(sandbox)


def _bank_consent(sandbox: Any, ttl: int = 3600) -> tuple[Any, Credentials]:
    """An ACCEPTED consent of the sandbox's first customer, and the credentials holding it."""
    bank = sandbox.state.bank
    customer = bank.customers[0]
    consent = bank.create_consent(
        customer,
        bank.consumer_key,
        "SMS",
        everything=True,
        views=[],
        entitlements=[],
        allowed_accounts={a.id for a in bank.accounts_of(customer.username)},
        time_to_live=ttl,
        status="ACCEPTED",
    )
    creds = Credentials(
        consumer_key=bank.consumer_key, consent_id=consent.consent_id, consent_jwt=consent.jwt
    )
    return consent, creds


async def _link(
    sessions: async_sessionmaker[AsyncSession],
    sandbox: Any,
    creds: Credentials,
    expires_at: datetime | None,
) -> int:
    bank = sandbox.state.bank
    async with sessions.begin() as s:
        return await connections.link_bank(
            s,
            user_id=await _customer(s, bank.customers[0].phone),
            institution=ALIF_INSTITUTION,
            provider="alif",
            base_url="http://sandbox",
            bank_id=bank.bank_id,
            credentials_encrypted=encrypt(creds, KEYS),
            upstream_consent_expires_at=expires_at,
        )


async def _customer(s: AsyncSession, phone: str) -> int:
    return await customers.ensure(s, phone)


@pytest.fixture
async def api(
    db_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    transport: Counting,
) -> AsyncIterator[Api]:
    app = create_app(
        Settings(database_url=db_url, secret_key=SECRET),
        engine=engine,
        auth=AuthConfig(bank_transport=transport),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        yield Api(client, sessions)


async def _sync(
    db_url: str, transport: Counting, settings: Settings | None = None
) -> tuple[list[str], list[Skipped]]:
    skipped: list[Skipped] = []
    reports = await sync_connections(
        None,
        full=False,
        database_url=db_url,
        keys=KEYS,
        transport=transport,
        skipped=skipped,
        settings=settings or Settings(secret_key=SECRET),
    )
    return [r.status for r in reports], skipped


async def _shown(api: Api, token: str) -> dict[str, Any]:
    (shown,) = (await api.query(CONNECTIONS, token=token))["data"]["bankConnections"]
    return shown  # type: ignore[no-any-return]


async def test_a_consent_revoked_at_the_bank_is_detected_shown_and_relinked(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consent, creds = _bank_consent(sandbox)
    connection_id = await _link(sessions, sandbox, creds, consent.expires_at)
    token = await api.token(phone=sandbox.state.bank.customers[0].phone)
    assert await _sync(db_url, transport) == (["SUCCEEDED"], [])

    sandbox.state.bank.revoke_consent(consent)  # the customer, at the bank
    statuses, _ = await _sync(db_url, transport)
    shown = await _shown(api, token)
    calls = len(transport.requests)
    again, skipped = await _sync(db_url, transport)

    assert statuses == ["FAILED"]
    assert shown["id"] == to_global_id("BankConnection", connection_id)
    assert shown["status"] == "BANK_CONSENT_REVOKED"
    assert shown["unattendedSyncRefusal"] == "BANK_CONSENT_REVOKED"
    assert again == [] and len(transport.requests) == calls  # no further call wasted
    assert [s.line() for s in skipped] == [
        f"connection {connection_id} skipped: its consent was revoked at the bank; "
        "the customer must link the bank again"
    ]

    fresh, new_creds = _bank_consent(sandbox)
    assert await _link(sessions, sandbox, new_creds, fresh.expires_at) == connection_id
    assert (await _shown(api, token))["status"] == "ACTIVE"
    assert await _sync(db_url, transport) == (["SUCCEEDED"], [])


async def test_a_consent_expired_at_the_bank_is_detected_and_shown(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    clock: Clock,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, creds = _bank_consent(sandbox, ttl=60)
    # The bank ended it earlier than we stored: only its answer can tell.
    await _link(sessions, sandbox, creds, None)
    token = await api.token(phone=sandbox.state.bank.customers[0].phone)
    clock.now += timedelta(seconds=61)

    statuses, _ = await _sync(db_url, transport)
    shown = await _shown(api, token)

    assert statuses == ["FAILED"]
    assert shown["status"] == "BANK_CONSENT_EXPIRED"
    assert shown["unattendedSyncRefusal"] == "BANK_CONSENT_EXPIRED"


async def test_a_passed_stored_expiry_stops_the_sync_without_a_call(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, creds = _bank_consent(sandbox)
    ended = utcnow() - timedelta(minutes=1)
    connection_id = await _link(sessions, sandbox, creds, ended)
    token = await api.token(phone=sandbox.state.bank.customers[0].phone)

    statuses, skipped = await _sync(db_url, transport)
    shown = await _shown(api, token)

    assert statuses == [] and transport.requests == []
    assert [s.connection_id for s in skipped] == [connection_id]
    assert "its consent at the bank has expired" in skipped[0].reason
    assert shown["status"] == "BANK_CONSENT_EXPIRED"
    assert datetime.fromisoformat(shown["bankConsentExpiresAt"]) == ended
    assert datetime.fromisoformat(shown["renewalDueAt"]) == ended - timedelta(days=14)


async def test_our_revocation_revokes_the_bank_consent(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consent, creds = _bank_consent(sandbox)
    connection_id = await _link(sessions, sandbox, creds, consent.expires_at)
    token = await api.token(phone=sandbox.state.bank.customers[0].phone)

    body = await api.query(REVOKE, token=token)

    assert body["data"]["consentRevoke"]["__typename"] == "ConsentRevokeSuccess"
    assert consent.status == "REVOKED"  # at the bank
    assert transport.requests == ["GET /obp/v5.1.0/root", "DELETE /obp/v5.1.0/my/consent/current"]
    async with sessions() as s:
        assert (await connections.bank_side(s, connection_id)).status == connections.REVOKED
    statuses, skipped = await _sync(db_url, transport)
    assert statuses == [] and [s.connection_id for s in skipped] == [connection_id]
    assert "revoked" in skipped[0].reason


async def test_a_bank_down_at_our_revocation_keeps_it_pending_until_the_next_sync_pass(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consent, creds = _bank_consent(sandbox)
    connection_id = await _link(sessions, sandbox, creds, consent.expires_at)
    token = await api.token(phone=sandbox.state.bank.customers[0].phone)
    transport.down = True

    body = await api.query(REVOKE, token=token)
    async with sessions() as s:
        pending = await connections.pending_revocations(s)
        ours = await consents.load(s, consent_of(token))

    # The customer's revocation succeeded; the bank's is pending.
    assert body["data"]["consentRevoke"]["__typename"] == "ConsentRevokeSuccess"
    assert ours is not None and ours.status == consents.REVOKED
    assert pending == [connection_id] and consent.status == "ACCEPTED"

    still = await revoke_pending(sessions, keys=KEYS, transport=transport)
    assert [o.done for o in still] == [False]
    assert "bank revocation pending" in still[0].line()

    transport.down = False
    statuses, skipped = await _sync(db_url, transport)
    async with sessions() as s:
        status = (await connections.bank_side(s, connection_id)).status

    assert consent.status == "REVOKED" and status == connections.REVOKED
    assert statuses == [] and [s.connection_id for s in skipped] == [connection_id]


async def test_a_bank_consent_already_over_counts_as_revoked(
    db_url: str, sandbox: Any, transport: Counting, sessions: async_sessionmaker[AsyncSession]
) -> None:
    consent, creds = _bank_consent(sandbox)
    connection_id = await _link(sessions, sandbox, creds, consent.expires_at)
    sandbox.state.bank.revoke_consent(consent)
    async with sessions.begin() as s:
        await connections.mark_revoking(s, [connection_id], now=utcnow())

    async with sessions() as s:
        user_id, _ = await connections.coverage(s, connection_id)

    (outcome,) = await revoke_at_bank_now(sessions, BankAccess(KEYS, transport), user_id)

    assert outcome.done and "OBP-35012" in outcome.note  # "already revoked"
    async with sessions() as s:
        assert (await connections.bank_side(s, connection_id)).status == connections.REVOKED


async def _direct_login_link(sessions: async_sessionmaker[AsyncSession], sandbox: Any) -> int:
    """A connection on the sandbox customer's own bank login (the development path)."""
    bank = sandbox.state.bank
    customer = bank.customers[0]
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    return await _link(sessions, sandbox, creds, None)


async def test_direct_login_is_refused_in_production(
    api: Api,
    db_url: str,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer = sandbox.state.bank.customers[0]
    connection_id = await _direct_login_link(sessions, sandbox)
    await api.token(phone=customer.phone)
    production = Settings(env="production", secret_key=SECRET)

    statuses, skipped = await _sync(db_url, transport, production)

    assert statuses == [] and transport.requests == []
    (skip,) = skipped
    assert skip.error
    assert skip.line() == (
        f"connection {connection_id} skipped: DirectLogin (a bank username and password) is "
        "for development and tests only, refused in production; link the bank through the "
        "customer's consent"
    )
    # Development keeps working.
    assert await _sync(db_url, transport) == (["SUCCEEDED"], [])


async def test_a_present_refresh_of_a_direct_login_connection_is_refused_in_production(
    db_url: str,
    engine: AsyncEngine,
    sandbox: Any,
    transport: Counting,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    customer = sandbox.state.bank.customers[0]
    connection_id = await _direct_login_link(sessions, sandbox)
    app = create_app(
        Settings(env="production", database_url=db_url, secret_key=SECRET),
        engine=engine,
        auth=AuthConfig(bank_transport=transport),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://api.test"
    ) as client:
        api = Api(client, sessions)
        pk, _ = await api.register_app()  # production serves apps' tokens only
        token = await api.token(phone=customer.phone, client=pk)
        gid = to_global_id("BankConnection", connection_id)
        body = await api.query(REFRESH, {"id": gid}, token=token)

    refreshed = body["data"]["connectionRefresh"]
    assert refreshed["code"] == "DIRECT_LOGIN_REFUSED"
    assert "refused in production" in refreshed["message"]
    assert transport.requests == []
