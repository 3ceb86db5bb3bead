"""The one place that picks a provider: connectors, consent brokers and institution rows.

Everything above this module (the sync engine, the graph, the command line) names a
provider by its string (`alif`, `obp`) and receives the provider-neutral interfaces of
`connectors.base`; only this module imports the provider packages.
"""

from __future__ import annotations

from typing import Any

import httpx

from connectors.alif.constants import ALIF_BANK_ID, ALIF_INSTITUTION
from connectors.alif.mapping import AlifMapper
from connectors.base import Connector, ConsentBroker
from connectors.credentials import Credentials
from connectors.obp.auth import ApplicationAuth, Auth, ConsentAuth, DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import DEFAULT_PAGE_SIZE, ObpConnector
from connectors.obp.consent_broker import ObpConsentBroker
from connectors.obp.mapping import ObpMapper
from connectors.tls import BankTls

PROVIDERS = ("alif", "obp")
# The bank a connection is made to when none is named.
DEFAULT_BANK_ID = ALIF_BANK_ID

# An institution row: code, name, country, BIC.
Institution = tuple[str, str, str, str | None]


def _check(provider: str) -> None:
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")


def _auth(credentials: Credentials) -> Auth:
    if credentials.consent_jwt or credentials.consent_id:
        return ConsentAuth(
            consumer_key=credentials.consumer_key,
            jwt=credentials.consent_jwt,
            consent_id=None if credentials.consent_jwt else credentials.consent_id,
        )
    if credentials.username is None or credentials.password is None:
        raise ValueError("credentials hold neither a consent nor a username and password")
    return DirectLogin(credentials.username, credentials.password, credentials.consumer_key)


def open_connector(
    provider: str,
    base_url: str,
    bank_id: str,
    credentials: Credentials,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    **client_options: Any,
) -> Connector:
    """`alif` applies Alif's attribute vocabulary and catalogue; `obp` reads plain OBP only.
    `tls` carries the client certificate (mutual TLS) and the CA bundle for the bank."""
    _check(provider)
    client = ObpClient(base_url, _auth(credentials), transport=transport, tls=tls, **client_options)
    mapper = AlifMapper() if provider == "alif" else ObpMapper()
    return ObpConnector(client, mapper, bank_id, page_size=page_size)


async def check_login(
    provider: str,
    base_url: str,
    credentials: Credentials,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
) -> None:
    """Log in once with `credentials` (one bank call, never retried: a refused login counts
    towards the bank's lockout, an unreachable bank will not answer the next second either).
    Raises connectors.errors.UpstreamError; ValueError for credentials no login can carry."""
    _check(provider)
    auth = _auth(credentials)
    async with ObpClient(base_url, auth, transport=transport, tls=tls, max_retries=0) as client:
        await client.authenticate()


def open_consent_broker(
    provider: str,
    base_url: str,
    bank_id: str,
    consumer_key: str,
    *,
    public_url: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
    **client_options: Any,
) -> ConsentBroker:
    """The bank side of linking, as the registered consumer `consumer_key` (application
    access); both providers speak OBP consent requests. `public_url`: the bank as the
    customer's browser reaches it (default `base_url`). `tls` as for `open_connector`."""
    _check(provider)
    auth = ApplicationAuth(consumer_key)
    client = ObpClient(base_url, auth, transport=transport, tls=tls, **client_options)
    return ObpConsentBroker(client, bank_id, consumer_key, public_url=public_url or base_url)


def institution_of(provider: str, bank_id: str) -> Institution:
    """The ledger's institution row for a connection: Alif's own, or one per OBP bank."""
    _check(provider)
    return ALIF_INSTITUTION if provider == "alif" else (f"obp:{bank_id}", bank_id, "TJ", None)


async def revoke_bank_consent(
    provider: str,
    base_url: str,
    credentials: Credentials,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
    **client_options: Any,
) -> None:
    """Revoke at the bank the consent `credentials` hold, authenticated with that consent
    itself (OBP: `DELETE /my/consent/current` with its Consent-Id or Consent-JWT, no
    operator role needed). Raises connectors.errors.UpstreamError."""
    _check(provider)
    async with ObpClient(
        base_url, _auth(credentials), transport=transport, tls=tls, **client_options
    ) as client:
        await client.revoke_current_consent()
