"""Linking a customer's Alif (OBP) account through the bank's own approval of a consent
request.

As the registered consumer (Consumer-Key only, no login of ours or the customer's) the
service asks the bank for a consent request addressed to the customer's phone, valid as
long as the consent the customer is giving an app; the customer's browser goes to the
bank, where they log in, review and pass the bank's SCA; back on our callback, the service
collects the consent (its id and Consent-JWT) and keeps only that, encrypted, in a
Connection. The customer's bank password never reaches this service.
"""

from __future__ import annotations

import logging
import math
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors import credentials
from connectors.base import ConsentBroker
from connectors.factory import institution_of, open_connector, open_consent_broker
from connectors.keys import Keyring
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
    public_url: str
    bank_id: str
    consumer_key: str


@dataclass(frozen=True, slots=True)
class BankRequest:
    consent_request_id: str
    approval_url: str


@dataclass(frozen=True, slots=True)
class LinkedBank:
    connection_id: int
    # When the bank's consent ends (None: the bank did not say).
    expires_at: datetime | None


class BankLinker:
    def __init__(
        self,
        target: BankTarget,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keys: Keyring,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: BankTls | None = None,
    ) -> None:
        self.target = target
        self._sessions = sessions
        self._keys = keys
        self._transport = transport
        self._tls = tls

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        keys: Keyring,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> BankLinker | None:
        """None when the bank link is not configured (the pages then do not offer it)."""
        base_url, key = settings.bank_base_url, settings.bank_consumer_key
        if not (base_url and key):
            return None
        target = BankTarget(
            base_url=base_url,
            public_url=settings.bank_public_url or base_url,
            bank_id=settings.bank_id,
            consumer_key=key.get_secret_value(),
        )
        return cls(
            target, sessions=sessions, keys=keys, transport=transport, tls=bank_tls(settings)
        )

    def _broker(self) -> ConsentBroker:
        t = self.target
        return open_consent_broker(
            PROVIDER,
            t.base_url,
            t.bank_id,
            t.consumer_key,
            public_url=t.public_url,
            transport=self._transport,
            tls=self._tls,
            max_retries=1,
        )

    async def request(
        self, *, phone: str, expires_at: datetime, now: datetime, redirect_uri: str, state: str
    ) -> BankRequest:
        """A consent request for the customer at `phone`, lasting until `expires_at` once
        granted (the bank counts from its grant, so it never ends before), and the bank
        page that answers it, which sends the browser back to `redirect_uri` with `state`.
        Raises connectors.errors.UpstreamError when the bank refuses or is down."""
        time_to_live = max(1, math.ceil((expires_at - now).total_seconds()))
        async with aclosing(self._broker()) as broker:
            request_id = await broker.request(phone=phone, time_to_live=time_to_live)
            url = broker.approval_url(request_id, redirect_uri=redirect_uri, state=state)
        return BankRequest(request_id, url)

    async def link(self, *, user_id: int, consent_request_id: str) -> LinkedBank | None:
        """Collect the consent the customer granted at the bank and store it as the
        customer's connection; None when they refused it. Raises ConsentNotAnswered when
        they have not answered, UpstreamError when the bank fails."""
        async with aclosing(self._broker()) as broker:
            consent = await broker.collect(consent_request_id)
        if consent is None:
            return None
        t = self.target
        async with self._sessions.begin() as session:
            connection_id = await connections.link_bank(
                session,
                user_id=user_id,
                institution=institution_of(PROVIDER, t.bank_id),
                provider=PROVIDER,
                base_url=t.base_url,
                bank_id=t.bank_id,
                credentials_encrypted=credentials.encrypt(consent.credentials, self._keys),
                upstream_consent_expires_at=consent.expires_at,
            )
        return LinkedBank(connection_id, consent.expires_at)

    async def sync(self, connection_id: int) -> SyncReport:
        """Pull the linked accounts now, with the consent (so the customer can pick them)."""
        t = self.target
        async with self._sessions() as session:
            _, _, _, blob = await connections.connection_target(session, connection_id)
        connector = open_connector(
            PROVIDER,
            t.base_url,
            t.bank_id,
            credentials.decrypt(blob, self._keys),
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
