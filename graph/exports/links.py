"""Signed, short-lived, single-customer download links for statement exports.

A link names everything the file is made from (consent, customer, account, format,
period, options, the creation time written into the file) and the SHA-256 of the file
`statementExport` made: downloading it remakes the same bytes, refused when they differ
(the ledger has changed since). It is signed with its own key (HMAC-SHA256, the key ring's
`export-link` purpose) and valid for LINK_TTL. At download the consent must still be usable
and cover the account, as on any request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from connectors.keys import Keyring
from ledger.exports import ExportFormat

# Where a link is downloaded: the token is the last path segment (graph/server/app.py), so
# the access log redacts what follows this prefix (graph/server/logs.py).
DOWNLOAD_PATH = "/api/v1/exports/"
LINK_TTL = timedelta(minutes=5)
MAX_TOKEN = 2048


@dataclass(frozen=True, slots=True)
class ExportLink:
    consent_id: int
    user_id: int
    account_id: int
    format: str
    date_from: str
    date_to: str
    locale: str
    booked_only: bool
    created_at: str  # ISO 8601, as written into the file
    expires_at: int  # POSIX seconds
    sha256: str

    @property
    def export_format(self) -> ExportFormat:
        return ExportFormat(self.format)

    @property
    def period(self) -> tuple[date, date]:
        return date.fromisoformat(self.date_from), date.fromisoformat(self.date_to)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def sign(keys: Keyring, link: ExportLink) -> str:
    payload = _b64(json.dumps(asdict(link), sort_keys=True, separators=(",", ":")).encode())
    return f"{payload}.{_mac(keys.export_link_keys[0], payload)}"


def verify(keys: Keyring, token: str, *, now: datetime) -> ExportLink | None:
    """The link a token carries, or None: malformed, not ours, or expired (one answer)."""
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        return None
    payload, mac = token.split(".")
    if not any(hmac.compare_digest(mac, _mac(key, payload)) for key in keys.export_link_keys):
        return None
    try:
        link = ExportLink(**json.loads(_unb64(payload)))
        link.export_format, link.period, link.created  # noqa: B018  (they must parse)
    except (ValueError, TypeError):
        return None
    return link if now.timestamp() < link.expires_at else None
