"""Authentication strategies for the OBP client.

A strategy produces the headers for a request and, after a 401, says whether it can
obtain fresh credentials. Only DirectLogin can: it logs in again with the stored
username and password. A bearer token or a consent cannot be renewed here; the
connection then needs a person (ReauthRequired).

Strategies never perform HTTP themselves: the client hands them a `login` callable
that goes through its single request choke point, so the login call gets the same
timeouts, retries and error mapping as every other call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from connectors.errors import UpstreamMalformed

DIRECT_LOGIN_PATH = "/my/logins/direct"

# (path, headers) -> decoded JSON body of a 2xx answer
LoginCall = Callable[[str, Mapping[str, str]], Awaitable[Any]]


class Auth(Protocol):
    async def headers(self, login: LoginCall) -> dict[str, str]:
        """Headers that authenticate one request; may log in first."""
        ...

    async def renew(self, login: LoginCall, rejected: Mapping[str, str]) -> bool:
        """After a 401 with `rejected` headers: get new credentials, or False if impossible."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every value that must never appear in a log line or an error message."""
        ...


def _quote(value: str) -> str:
    # DirectLogin parameters are comma-separated k="v" pairs; a quote or comma would split them.
    if any(ch in value for ch in '",\r\n'):
        raise ValueError("DirectLogin parameters cannot contain quotes, commas or newlines")
    return f'"{value}"'


class DirectLogin:
    """`POST /my/logins/direct` once, then `DirectLogin: token="..."` on every call."""

    def __init__(
        self, username: str, password: str, consumer_key: str, *, token: str | None = None
    ) -> None:
        self.username = username
        self._password = password
        self._consumer_key = consumer_key
        self._token = token
        # Concurrent requests share one login instead of each starting their own.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"DirectLogin(username={self.username!r})"

    def login_header(self) -> str:
        return (
            f"username={_quote(self.username)}, password={_quote(self._password)}, "
            f"consumer_key={_quote(self._consumer_key)}"
        )

    def _token_headers(self, token: str) -> dict[str, str]:
        return {"DirectLogin": f"token={_quote(token)}"}

    async def _login(self, login: LoginCall) -> str:
        body = await login(DIRECT_LOGIN_PATH, {"DirectLogin": self.login_header()})
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise UpstreamMalformed("DirectLogin answer has no token", endpoint=DIRECT_LOGIN_PATH)
        return token

    async def headers(self, login: LoginCall) -> dict[str, str]:
        async with self._lock:
            if self._token is None:
                self._token = await self._login(login)
            return self._token_headers(self._token)

    async def renew(self, login: LoginCall, rejected: Mapping[str, str]) -> bool:
        async with self._lock:
            # Another request may already have replaced the rejected token.
            if self._token is None or self._token_headers(self._token) == dict(rejected):
                self._token = None
                self._token = await self._login(login)
            return True

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._password, self._consumer_key, self._token) if s)


class BearerAuth:
    """OAuth2 / OIDC access token: `Authorization: Bearer <token>`."""

    def __init__(self, access_token: str) -> None:
        self._token = access_token

    def __repr__(self) -> str:
        return "BearerAuth()"

    async def headers(self, login: LoginCall) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def renew(self, login: LoginCall, rejected: Mapping[str, str]) -> bool:
        return False

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)


class ConsentAuth:
    """An accepted OBP consent: `Consent-JWT` (preferred) or `Consent-Id`, plus `Consumer-Key`."""

    def __init__(
        self, *, consumer_key: str, jwt: str | None = None, consent_id: str | None = None
    ) -> None:
        if (jwt is None) == (consent_id is None):
            raise ValueError("give exactly one of jwt or consent_id")
        self._consumer_key = consumer_key
        self._jwt = jwt
        self._consent_id = consent_id

    def __repr__(self) -> str:
        return f"ConsentAuth(by={'jwt' if self._jwt else 'consent_id'})"

    async def headers(self, login: LoginCall) -> dict[str, str]:
        if self._jwt is not None:
            return {"Consent-JWT": self._jwt, "Consumer-Key": self._consumer_key}
        assert self._consent_id is not None
        return {"Consent-Id": self._consent_id, "Consumer-Key": self._consumer_key}

    async def renew(self, login: LoginCall, rejected: Mapping[str, str]) -> bool:
        return False

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._consumer_key, self._jwt, self._consent_id) if s)


class ApplicationAuth:
    """OBP's application access: the registered consumer alone, `Consumer-Key: <key>`, no
    user logged in (consent requests are made before the bank knows the customer)."""

    def __init__(self, consumer_key: str) -> None:
        self._consumer_key = consumer_key

    def __repr__(self) -> str:
        return "ApplicationAuth()"

    async def headers(self, login: LoginCall) -> dict[str, str]:
        return {"Consumer-Key": self._consumer_key}

    async def renew(self, login: LoginCall, rejected: Mapping[str, str]) -> bool:
        return False

    def secrets(self) -> tuple[str, ...]:
        return (self._consumer_key,)
