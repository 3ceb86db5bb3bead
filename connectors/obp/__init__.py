"""Open Bank Project (v5.1.0) connector: HTTP client, auth, typed errors, JSON mapping."""

from connectors.obp.auth import BearerAuth, ConsentAuth, DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import ObpConnector
from connectors.obp.consent import ConsentInfo, ConsentView
from connectors.obp.errors import (
    ReauthRequired,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamForbidden,
    UpstreamMalformed,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.obp.mapping import ObpMapper

__all__ = [
    "BearerAuth",
    "ConsentAuth",
    "ConsentInfo",
    "ConsentView",
    "DirectLogin",
    "ObpClient",
    "ObpConnector",
    "ObpMapper",
    "ReauthRequired",
    "UpstreamAuthError",
    "UpstreamBadRequest",
    "UpstreamError",
    "UpstreamForbidden",
    "UpstreamMalformed",
    "UpstreamNotFound",
    "UpstreamRateLimited",
    "UpstreamUnavailable",
]
