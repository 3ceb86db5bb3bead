"""OAuth errors (RFC 6749 5.2) and the one place they become responses.

Handlers raise; `answers_oauth_errors` turns the error into the JSON answer. The body carries
only the RFC 6749 code (and, for a rate limit, when to retry): the reason is for the log and
the audit trail, never for the client.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.limits.buckets import Decision

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

E = TypeVar("E")


class OAuthError(Exception):
    error: ClassVar[str]
    status: ClassVar[int] = 400

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason or self.error)
        self.reason = reason  # never sent

    def body(self) -> dict[str, object]:
        return {"error": self.error}

    def headers(self) -> dict[str, str]:
        return dict(NO_STORE)


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    error = "invalid_client"
    status = 401

    def headers(self) -> dict[str, str]:
        return {**NO_STORE, "WWW-Authenticate": 'Basic realm="alif-graph"'}


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class RateLimited(OAuthError):
    """429 `{"error": "rate_limit", "retry_after": N}` with the rate-limit headers."""

    error = "rate_limit"
    status = 429

    def __init__(self, decision: Decision) -> None:
        if decision.allowed:
            raise ValueError("RateLimited is for refused decisions only")
        super().__init__("rate limited")
        self.decision = decision

    def body(self) -> dict[str, object]:
        return {"error": self.error, "retry_after": self.decision.retry_after}

    def headers(self) -> dict[str, str]:
        return {**self.decision.headers(), "Cache-Control": "no-store"}


def error_response(exc: OAuthError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers())


Handler = Callable[[E, Request], Awaitable[Response]]


def answers_oauth_errors(handler: Handler[E]) -> Handler[E]:
    """An endpoint method whose OAuth errors are answered as RFC 6749 JSON."""

    @functools.wraps(handler)
    async def answer(self: E, request: Request) -> Response:
        try:
            return await handler(self, request)
        except OAuthError as exc:
            return error_response(exc)

    return answer
