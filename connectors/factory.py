"""Build the connector for a stored connection: the one place that picks a provider."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.alif.mapping import AlifMapper
from connectors.credentials import Credentials
from connectors.obp.auth import Auth, ConsentAuth, DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import DEFAULT_PAGE_SIZE, ObpConnector
from connectors.obp.mapping import ObpMapper

PROVIDERS = ("alif", "obp")


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
    page_size: int = DEFAULT_PAGE_SIZE,
    **client_options: Any,
) -> ObpConnector:
    """`alif` applies Alif's attribute vocabulary and catalogue; `obp` reads plain OBP only."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    client = ObpClient(base_url, _auth(credentials), transport=transport, **client_options)
    mapper = AlifMapper() if provider == "alif" else ObpMapper()
    return ObpConnector(client, mapper, bank_id, page_size=page_size)
