"""Typed upstream errors: the only exceptions the OBP client lets out.

Every error carries the HTTP status (None when no response arrived), the OBP code
(`OBP-10018`), an already-redacted message, the request id and whether a later retry
may succeed. The client builds them in one place (`ObpClient._request`); nothing here
knows any secret, so callers must pass text that has been through `masking.redact`.
"""

from __future__ import annotations

import re
from typing import Any

_OBP_CODE_RE = re.compile(r"^\s*(OBP-\d{5})\b")


class UpstreamError(Exception):
    """Base class. `should_retry` says whether repeating the same call may succeed."""

    default_retry = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        endpoint: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.endpoint = endpoint
        self.should_retry = self.default_retry if should_retry is None else should_retry
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.endpoint} -> " if self.endpoint else ""
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        code = f" {self.code}" if self.code and self.code not in self.message else ""
        return f"{where}{status}{code}: {self.message} (request_id={self.request_id})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class UpstreamUnavailable(UpstreamError):
    """No usable answer: transport error, timeout, 409 or 5xx."""

    default_retry = True


class UpstreamAuthError(UpstreamError):
    """401, or a 400 whose OBP code says the credentials or consent are unusable."""


class ReauthRequired(UpstreamAuthError):
    """Credentials were refused even after the one allowed re-login: a person must act."""


class UpstreamForbidden(UpstreamError):
    """403: authenticated, but the view, role or consent does not cover this call."""


class UpstreamNotFound(UpstreamError):
    """404, or a 400 whose OBP code names a missing bank, account or transaction."""


class UpstreamRateLimited(UpstreamError):
    """429. `retry_after` is the server's stated wait in seconds, when it gave one."""

    default_retry = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UpstreamBadRequest(UpstreamError):
    """Any other non-2xx answer: our request was wrong; repeating it will not help."""


class UpstreamMalformed(UpstreamError):
    """A 2xx whose body is not JSON or not the expected shape (often a truncated page)."""

    default_retry = True


# OBP answers 400 for many errors that have a more precise meaning; the code refines it.
# Codes from obp-protocol.md section 3 (ErrorMessages.scala).
_AUTH_CODES = frozenset(
    {
        "OBP-20001",  # not logged in
        "OBP-20003",  # DirectLogin token invalid or expired
        "OBP-20004",  # bad credentials
        "OBP-20013",  # account locked
        "OBP-20202",  # OAuth2 token cannot be verified
        "OBP-20204",
        "OBP-20205",
        "OBP-20206",  # OAuth2 token invalid or expired
        "OBP-35001",  # consent not found
        "OBP-35003",  # consent expired
        "OBP-35004",  # consent signature bad
        "OBP-35005",  # consent not ACCEPTED (revoked, rejected)
        "OBP-35032",  # consent header neither a JWT nor a known id
    }
)
_FORBIDDEN_CODES = frozenset({"OBP-20006", "OBP-20017", "OBP-30022"})
_NOT_FOUND_CODES = frozenset(
    {"OBP-30001", "OBP-30003", "OBP-30017", "OBP-30018", "OBP-30067", "OBP-30076"}
)


def parse_obp_code(message: str | None) -> str | None:
    """`"OBP-10018: Too Many Requests..."` -> `"OBP-10018"`; match the prefix, not the text."""
    if not message:
        return None
    match = _OBP_CODE_RE.match(message)
    return match.group(1) if match else None


def error_class(status: int, code: str | None) -> type[UpstreamError]:
    """The error type for a non-2xx status, refined by the OBP code when the status is 400."""
    if status == 401:
        return UpstreamAuthError
    if status == 403:
        return UpstreamForbidden
    if status == 404:
        return UpstreamNotFound
    if status == 429:
        return UpstreamRateLimited
    if status == 409 or status >= 500:
        return UpstreamUnavailable
    if status == 400 and code is not None:
        if code in _AUTH_CODES:
            return UpstreamAuthError
        if code in _FORBIDDEN_CODES:
            return UpstreamForbidden
        if code in _NOT_FOUND_CODES:
            return UpstreamNotFound
    return UpstreamBadRequest
