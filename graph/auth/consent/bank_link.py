"""Linking a customer's Alif (OBP) account through the bank's own consent flow.

The service logs in to the bank with the operator's DirectLogin (from the settings), asks
for an OBP consent by SMS (`POST .../my/consents/SMS`, everything), and the bank texts its
own code to the customer, who types it on our page. With the right answer the bank returns
a Consent-JWT; only that and the consent id are kept, encrypted, in a Connection. The
customer's bank password never reaches this service.

Note: OBP grants a `my/consents` consent over the logged-in user's accounts. A real
deployment needs the bank's service login to be entitled to create consents for the
customer named by `phone_number` (to confirm with Alif); the sandbox plays this with the
operator login being the customer's own.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.alif.constants import ALIF_INSTITUTION
from connectors.factory import open_connector
from connectors.obp.auth import DirectLogin
from connectors.obp.client import ObpClient
from connectors.sync import SyncEngine, SyncReport
from graph.settings import Settings
from ledger import connections
from ledger.models import Connection, table
from ledger.types import utcnow

log = logging.getLogger("graph.auth.bank")

CONNECTIONS = table(Connection)
PROVIDER = "alif"


@dataclass(frozen=True, slots=True)
class BankTarget:
    base_url: str
    bank_id: str
    operator_username: str
    operator_password: str
    consumer_key: str


def _expiry(jwt: str) -> datetime | None:
    """The `exp` of the bank's Consent-JWT (read, not verified: the bank holds its key)."""
    try:
        payload = jwt.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


class BankLinker:
    def __init__(
        self,
        target: BankTarget,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self._sessions = sessions
        self._secret = secret
        self._transport = transport

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> BankLinker | None:
        """None when the bank link is not configured (the pages then do not offer it)."""
        password, key = settings.bank_operator_password, settings.bank_consumer_key
        if not (settings.bank_base_url and settings.bank_operator_username and password and key):
            return None
        target = BankTarget(
            base_url=settings.bank_base_url,
            bank_id=settings.bank_id,
            operator_username=settings.bank_operator_username,
            operator_password=password.get_secret_value(),
            consumer_key=key.get_secret_value(),
        )
        return cls(target, sessions=sessions, secret=secret, transport=transport)

    def _client(self) -> ObpClient:
        t = self.target
        login = DirectLogin(t.operator_username, t.operator_password, t.consumer_key)
        return ObpClient(t.base_url, login, transport=self._transport, max_retries=1)

    async def start(self, phone: str) -> str:
        """Ask the bank for a consent; it texts its code to `phone`. Returns the consent id.
        Raises connectors.errors.UpstreamError when the bank refuses or is down."""
        async with self._client() as obp:
            info = await obp.create_consent(
                self.target.bank_id, "SMS", everything=True, phone_number=phone
            )
        return info.consent_id

    async def finish(self, *, user_id: int, bank_consent_id: str, answer: str) -> int | None:
        """Answer the bank's challenge; on ACCEPTED store the consent and return the
        connection id, else None (the bank's consent is then spent)."""
        async with self._client() as obp:
            info = await obp.answer_consent_challenge(self.target.bank_id, bank_consent_id, answer)
        if info.status != "ACCEPTED" or not info.jwt:
            return None
        creds = credentials.Credentials(
            consumer_key=self.target.consumer_key,
            consent_id=info.consent_id,
            consent_jwt=info.jwt,
        )
        async with self._sessions.begin() as session:
            return await self._store(session, user_id, creds, _expiry(info.jwt))

    async def _store(
        self,
        session: AsyncSession,
        user_id: int,
        creds: credentials.Credentials,
        expires_at: datetime | None,
    ) -> int:
        """Re-linking the same bank replaces the connection's credentials instead of adding
        a second connection (which would duplicate every account)."""
        t = self.target
        blob = credentials.encrypt(creds, self._secret)
        existing = (
            await session.execute(
                select(CONNECTIONS.c.id).where(
                    CONNECTIONS.c.user_id == user_id,
                    CONNECTIONS.c.base_url == t.base_url,
                    CONNECTIONS.c.bank_id == t.bank_id,
                )
            )
        ).scalar_one_or_none()
        if existing is not None:
            await session.execute(
                update(CONNECTIONS)
                .where(CONNECTIONS.c.id == existing)
                .values(
                    credentials_encrypted=blob,
                    upstream_consent_expires_at=expires_at,
                    status="ACTIVE",
                    updated_at=utcnow(),
                )
            )
            return int(existing)
        institution_id = await connections.ensure_institution(session, *ALIF_INSTITUTION)
        connection_id = await connections.add_connection(
            session,
            user_id=user_id,
            institution_id=institution_id,
            provider=PROVIDER,
            base_url=t.base_url,
            bank_id=t.bank_id,
            credentials_encrypted=blob,
        )
        await session.execute(
            update(CONNECTIONS)
            .where(CONNECTIONS.c.id == connection_id)
            .values(upstream_consent_expires_at=expires_at)
        )
        return connection_id

    async def sync(self, connection_id: int) -> SyncReport:
        """Pull the linked accounts now, with the consent (so the customer can pick them)."""
        t = self.target
        async with self._sessions() as session:
            _, _, _, blob = await connections.connection_target(session, connection_id)
        connector = open_connector(
            PROVIDER,
            t.base_url,
            t.bank_id,
            credentials.decrypt(blob, self._secret),
            transport=self._transport,
        )
        try:
            return await SyncEngine(self._sessions).sync(connection_id, connector)
        finally:
            await connector.aclose()
