"""Typed upstream errors: the only exceptions a connector lets out, whatever the provider.

Every error carries the HTTP status (None when no response arrived), the provider's own
error code (OBP: `OBP-10018`), an already-redacted message, the request id and whether a
later retry may succeed. A provider's client builds them in one place and maps its codes
onto this tree (OBP: `connectors/obp/error_codes.py`); nothing here knows any secret, so
callers must pass text that has been through `connectors.masking.redact`.
"""

from __future__ import annotations

from typing import Any


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


class RedactedCause(Exception):
    """What stands in a traceback for a foreign exception (httpx, ssl, json) under an
    UpstreamError: its type and redacted text only. The original is never chained: an
    httpx error carries its request (URL, query string, headers: tokens, consent ids) and
    a traceback, `--debug`'s included, would print whatever its text holds. `kind` is the
    original's class, for the checks that depend on it (was the request ever sent?)."""

    def __init__(self, kind: type[BaseException], text: str) -> None:
        self.kind = kind
        super().__init__(f"{kind.__module__}.{kind.__qualname__}: {text}")


class UpstreamUnavailable(UpstreamError):
    """No usable answer: transport error, timeout, 409 or 5xx."""

    default_retry = True


class UpstreamAuthError(UpstreamError):
    """401, or a 400 whose OBP code says the credentials or consent are unusable."""


class ReauthRequired(UpstreamAuthError):
    """Credentials were refused even after the one allowed re-login: a person must act."""


class BankConsentEnded(ReauthRequired):
    """The bank says the consent itself is over, so no login can help: the customer must
    give the bank a new one (link again). Raised as soon as the bank answers it."""


class BankConsentRevoked(BankConsentEnded):
    """The consent was revoked at the bank (or otherwise left the accepted state there)."""


class BankConsentExpired(BankConsentEnded):
    """The consent's lifetime at the bank is over."""


class UpstreamConfigurationError(UpstreamError):
    """The bank refused how this deployment reaches it, not the customer's consent: our
    client certificate (mutual TLS: absent, expired, from a CA the bank does not trust, or not
    the one registered for our consumer), the CA bundle that verifies the bank, or a
    certificate file that cannot be loaded. An operator must fix the configuration; another
    login would not help, so it is never an `UpstreamAuthError`."""


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


class ConsentNotAnswered(UpstreamError):
    """A consent request the customer has not answered at the bank yet (or whose SCA is
    not passed yet): there is no consent to collect. Not retried: the customer must act."""


class UpstreamMalformed(UpstreamError):
    """A 2xx whose body is not JSON or not the expected shape (often a truncated page)."""

    default_retry = True
