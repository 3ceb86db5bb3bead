"""Helpers shared by the sandbox tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx

AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
API = "/obp/v5.1.0"
BANK = "alif.tj"

Login = Callable[..., Awaitable[dict[str, str]]]


class FakeClock:
    """The bank's clock; tests move it to expire consents, tokens and rate windows."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def expect_error(response: httpx.Response, status: int, code: str) -> None:
    """An OBP error envelope: exactly {code, message}, the status, the OBP-NNNNN prefix."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == status
    assert body["message"].startswith(f"{code}: ")


def transactions_path(account_id: str, view: str = "owner") -> str:
    return f"{API}/banks/{BANK}/accounts/{account_id}/{view}/transactions"


def account_path(account_id: str) -> str:
    return f"{API}/banks/{BANK}/accounts/{account_id}"
