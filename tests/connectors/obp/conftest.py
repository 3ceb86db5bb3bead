"""A scripted OBP server on httpx.MockTransport, a recording sleep, and test credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors.obp.auth import Auth, DirectLogin
from connectors.obp.client import ObpClient

BASE_URL = "https://obp.alif.test"


@dataclass(frozen=True)
class Creds:
    username: str = "farrukh"
    password: str = "Pa55-w0rd-Dushanbe"
    consumer_key: str = "ck-4f9a7c21e0b34d5e"
    token: str = "eyJhbGciOiJIUzI1NiJ9.eyIiOiIifQ.Y0jkTOKENsignature1"
    token_2: str = "eyJhbGciOiJIUzI1NiJ9.eyIiOiIifQ.SECONDtokenSignature2"
    consent_jwt: str = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJjLTEifQ.CONSENTsig"

    def all(self) -> tuple[str, ...]:
        return (self.password, self.consumer_key, self.token, self.token_2, self.consent_jwt)


CREDS = Creds()

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


ROOT = "/obp/v5.1.0/root"


class FakeObp:
    """Answers each (method, path) from a script; the last scripted reply repeats.

    It serves OBP v5.1.0's `root`, which the client asks once to find its API version;
    `requests` leaves that call out (see `roots`), so tests count only the calls they make.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.roots: list[httpx.Request] = []
        self._routes: dict[tuple[str, str], list[Reply]] = {}
        self.logins = 0
        self.route("POST", "/my/logins/direct", self._login)
        self.ok("GET", ROOT, {"version": "v5.1.0", "version_status": "STABLE"})

    def _login(self, request: httpx.Request) -> httpx.Response:
        self.logins += 1
        token = CREDS.token if self.logins == 1 else CREDS.token_2
        return httpx.Response(201, json={"token": token})

    def route(self, method: str, path: str, *replies: Reply) -> None:
        self._routes[(method, path)] = list(replies)

    def ok(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.route(method, path, httpx.Response(status, json=body))

    def handler(self, request: httpx.Request) -> httpx.Response:
        is_root = request.url.path.startswith("/obp/") and request.url.path.endswith("/root")
        (self.roots if is_root else self.requests).append(request)
        replies = self._routes.get((request.method, request.url.path))
        if not replies:
            return httpx.Response(404, json={"code": 404, "message": "OBP-30001: Bank not found."})
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    @staticmethod
    def error(status: int, message: str, **headers: str) -> httpx.Response:
        """The OBP error envelope."""
        return httpx.Response(status, json={"code": status, "message": message}, headers=headers)

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == path]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


class SleepRecorder:
    """Stands in for asyncio.sleep: records the requested delays, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def obp() -> FakeObp:
    return FakeObp()


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def creds() -> Creds:
    return CREDS


@pytest.fixture
def direct_login() -> DirectLogin:
    return DirectLogin(CREDS.username, CREDS.password, CREDS.consumer_key)


@pytest.fixture
async def make_client(
    obp: FakeObp, sleeps: SleepRecorder, direct_login: DirectLogin
) -> AsyncIterator[Callable[..., ObpClient]]:
    clients: list[ObpClient] = []

    def make(auth: Auth | None = None, **kwargs: Any) -> ObpClient:
        kwargs.setdefault("random", lambda: 0.5)
        kwargs.setdefault("sleep", sleeps)
        client = ObpClient(BASE_URL, auth or direct_login, transport=obp.transport, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def client(make_client: Callable[..., ObpClient]) -> ObpClient:
    return make_client()
