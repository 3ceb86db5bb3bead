"""`connectors.base.ConsentBroker` over OBP: `my/consents/SMS` for everything, as the operator.

The service logs in with the operator's DirectLogin and asks for a consent by SMS; the bank
texts its own code to the customer. The right answer yields a Consent-JWT, which becomes
the connection's credentials (with the consumer key that must accompany it).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson

from connectors.base import BankConsent
from connectors.credentials import Credentials
from connectors.obp.client import ObpClient


def consent_expiry(jwt: str) -> datetime | None:
    """The `exp` of the bank's Consent-JWT (read, not verified: the bank holds its key)."""
    try:
        payload = jwt.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


class ObpConsentBroker:
    def __init__(self, client: ObpClient, bank_id: str, consumer_key: str) -> None:
        self._client = client
        self._bank_id = bank_id
        self._consumer_key = consumer_key

    async def start(self, phone: str) -> str:
        info = await self._client.create_consent(
            self._bank_id, "SMS", everything=True, phone_number=phone
        )
        return info.consent_id

    async def finish(self, consent_id: str, answer: str) -> BankConsent | None:
        info = await self._client.answer_consent_challenge(self._bank_id, consent_id, answer)
        if info.status != "ACCEPTED" or not info.jwt:
            return None
        creds = Credentials(
            consumer_key=self._consumer_key, consent_id=info.consent_id, consent_jwt=info.jwt
        )
        return BankConsent(creds, consent_expiry(info.jwt))

    async def aclose(self) -> None:
        await self._client.aclose()
