"""`connectors.base.ConsentBroker` over OBP's consent requests (APIMethods500).

As the registered consumer (application access: the Consumer-Key header, no user logged
in) the service asks for a consent request addressed to the customer's phone; the customer
logs in at the bank's own pages, reviews it and passes the bank's SCA; the bank then hands
the consumer the consent (its id and Consent-JWT), which becomes the connection's
credentials with the consumer key that must accompany it. The service never sees the
customer's bank password.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson

from connectors.base import BankConsent
from connectors.credentials import Credentials
from connectors.errors import ConsentNotAnswered, UpstreamMalformed
from connectors.obp.client import ObpClient

# The bank's page where the customer answers a consent request. OBP-API leaves this page
# to the bank (OBP's own portals differ); this is the sandbox's, to confirm with Alif.
APPROVAL_PATH = "/bank/consent"


def consent_expiry(jwt: str) -> datetime | None:
    """The `exp` of the bank's Consent-JWT (read, not verified: the bank holds its key)."""
    try:
        payload = jwt.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        return None


class ObpConsentBroker:
    def __init__(
        self, client: ObpClient, bank_id: str, consumer_key: str, *, public_url: str
    ) -> None:
        """`client` authenticates with `ApplicationAuth(consumer_key)`; `public_url` is
        the bank's address as the customer's browser reaches it."""
        self._client = client
        self._bank_id = bank_id
        self._consumer_key = consumer_key
        self._approval_page = public_url.rstrip("/") + APPROVAL_PATH

    async def request(self, *, phone: str, time_to_live: int) -> str:
        # Every account, later ones included: the accounts are not known before the first
        # sync; the customer chooses which ones an app sees on our consent page.
        made = await self._client.create_consent_request(
            self._bank_id, everything=True, time_to_live=time_to_live, phone_number=phone
        )
        return made.consent_request_id

    def approval_url(self, consent_request_id: str, *, redirect_uri: str, state: str) -> str:
        query = {
            "consent_request_id": consent_request_id,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self._approval_page}?{urlencode(query)}"

    async def collect(self, consent_request_id: str) -> BankConsent | None:
        info = await self._client.consent_by_request(consent_request_id)
        if info.status == "INITIATED":
            raise ConsentNotAnswered(
                "the customer has not passed the bank's SCA for this consent yet",
                endpoint="GET /consumer/consent-requests/{id}/consents",
            )
        if info.status != "ACCEPTED":
            return None  # REJECTED (refused, or a wrong code), or ended since
        if not info.jwt:
            raise UpstreamMalformed("an ACCEPTED consent came without its JWT")
        creds = Credentials(
            consumer_key=self._consumer_key, consent_id=info.consent_id, consent_jwt=info.jwt
        )
        return BankConsent(creds, consent_expiry(info.jwt))

    async def aclose(self) -> None:
        await self._client.aclose()
