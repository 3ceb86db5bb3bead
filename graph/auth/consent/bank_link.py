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

import logging
from contextlib import aclosing
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.base import ConsentBroker
from connectors.factory import institution_of, open_connector, open_consent_broker
from connectors.sync import SyncEngine, SyncReport
from connectors.tls import BankTls
from graph.bank_tls import bank_tls
from graph.settings import Settings
from ledger import connections
from ledger.sync_store import Trigger

log = logging.getLogger("graph.auth.bank")

PROVIDER = "alif"


@dataclass(frozen=True, slots=True)
class BankTarget:
    base_url: str
    bank_id: str
    operator_username: str
    operator_password: str
    consumer_key: str


class BankLinker:
    def __init__(
        self,
        target: BankTarget,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secret: str,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: BankTls | None = None,
    ) -> None:
        self.target = target
        self._sessions = sessions
        self._secret = secret
        self._transport = transport
        self._tls = tls

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
        return cls(
            target, sessions=sessions, secret=secret, transport=transport, tls=bank_tls(settings)
        )

    def _broker(self) -> ConsentBroker:
        t = self.target
        operator = credentials.Credentials(
            consumer_key=t.consumer_key, username=t.operator_username, password=t.operator_password
        )
        return open_consent_broker(
            PROVIDER,
            t.base_url,
            t.bank_id,
            operator,
            transport=self._transport,
            tls=self._tls,
            max_retries=1,
        )

    async def start(self, phone: str) -> str:
        """Ask the bank for a consent; it texts its code to `phone`. Returns the consent id.
        Raises connectors.errors.UpstreamError when the bank refuses or is down."""
        async with aclosing(self._broker()) as broker:
            return await broker.start(phone)

    async def finish(self, *, user_id: int, bank_consent_id: str, answer: str) -> int | None:
        """Answer the bank's challenge; on ACCEPTED store the consent and return the
        connection id, else None (the bank's consent is then spent)."""
        async with aclosing(self._broker()) as broker:
            consent = await broker.finish(bank_consent_id, answer)
        if consent is None:
            return None
        t = self.target
        async with self._sessions.begin() as session:
            return await connections.link_bank(
                session,
                user_id=user_id,
                institution=institution_of(PROVIDER, t.bank_id),
                provider=PROVIDER,
                base_url=t.base_url,
                bank_id=t.bank_id,
                credentials_encrypted=credentials.encrypt(consent.credentials, self._secret),
                upstream_consent_expires_at=consent.expires_at,
            )

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
            tls=self._tls,
        )
        try:
            # The customer is linking the bank right now: not an unattended access.
            return await SyncEngine(self._sessions).sync(
                connection_id, connector, trigger=Trigger.LINK
            )
        finally:
            await connector.aclose()
