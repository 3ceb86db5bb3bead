"""The one mapping from OAuth errors to RFC 6749 answers: bodies, statuses and headers."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request
from starlette.responses import Response

from graph.auth.oauth.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    RateLimited,
    UnsupportedGrantType,
    answers_oauth_errors,
    error_response,
)
from graph.limits.buckets import Decision

NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def _answer(exc: OAuthError) -> tuple[int, dict[str, object], dict[str, str]]:
    response = error_response(exc)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length",)}
    headers.pop("content-type")
    return response.status_code, json.loads(bytes(response.body)), headers


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidRequest, "invalid_request"),
        (InvalidGrant, "invalid_grant"),
        (InvalidScope, "invalid_scope"),
        (UnsupportedGrantType, "unsupported_grant_type"),
    ],
)
def test_a_400_error_carries_only_its_code(error: type[OAuthError], code: str) -> None:
    assert _answer(error("the reason, for the log only")) == (400, {"error": code}, NO_STORE)


def test_invalid_client_is_401_with_a_basic_challenge() -> None:
    assert _answer(InvalidClient("wrong secret")) == (
        401,
        {"error": "invalid_client"},
        NO_STORE | {"www-authenticate": 'Basic realm="alif-graph"'},
    )


def test_a_rate_limit_answers_as_it_always_has() -> None:
    refused = Decision(allowed=False, remaining=0, retry_after=60, limit=10)
    status, body, headers = _answer(RateLimited(refused))
    assert (status, body) == (429, {"error": "rate_limit", "retry_after": 60})
    assert headers["retry-after"] == "60" and headers["cache-control"] == "no-store"
    assert headers["x-ratelimit-limit"] == "10" and headers["x-ratelimit-remaining"] == "0"
    with pytest.raises(ValueError):
        RateLimited(Decision(allowed=True, remaining=3, retry_after=0, limit=10))


async def test_the_decorator_answers_raised_errors_and_passes_the_rest() -> None:
    class Endpoint:
        @answers_oauth_errors
        async def refuse(self, request: Request) -> Response:
            raise InvalidGrant("code replayed")

        @answers_oauth_errors
        async def fail(self, request: Request) -> Response:
            raise RuntimeError("a bug is not an OAuth answer")

    request = Request({"type": "http", "method": "POST", "headers": []})
    response = await Endpoint().refuse(request)
    assert (response.status_code, json.loads(bytes(response.body))) == (
        400,
        {"error": "invalid_grant"},
    )
    with pytest.raises(RuntimeError):
        await Endpoint().fail(request)
