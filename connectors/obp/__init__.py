"""Open Bank Project (v5.1.0) connector: HTTP client, auth, OBP error codes, JSON mapping."""

from connectors.obp.auth import ApplicationAuth, BearerAuth, ConsentAuth, DirectLogin
from connectors.obp.client import ObpClient
from connectors.obp.connector import ObpConnector
from connectors.obp.consent import AccountAccess, ConsentInfo, ConsentRequestInfo
from connectors.obp.mapping import ObpMapper

__all__ = [
    "AccountAccess",
    "ApplicationAuth",
    "BearerAuth",
    "ConsentAuth",
    "ConsentInfo",
    "ConsentRequestInfo",
    "DirectLogin",
    "ObpClient",
    "ObpConnector",
    "ObpMapper",
]
